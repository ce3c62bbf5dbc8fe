"""Data of the midterm-tabular competition: customers of "Hanbit Telecom", a generated but
realistic churn data set.  Deterministic from ``seed``.

The label is drawn from a hidden model with the kind of structure real churn data has:

- contract type, tenure and payment method matter most (a month-to-month contract in the
  first months is by far the riskiest), with non-linear effects (churn falls like
  log(tenure), support calls matter only past a threshold, age is U-shaped);
- interactions: fiber internet with high monthly charges, many support calls with a low
  satisfaction score, a promotion that ended recently on a month-to-month contract;
- missing values: some at random (age, data usage), some informative (no app login
  recorded = the customer never installed the app; satisfaction is mostly missing, and
  missing more often among unhappy customers; total charges are blank for new customers);
- class imbalance (about 1 churner in 6) and label noise (1.5% of the labels flipped), so
  a perfect score is impossible.

A linear model on one-hot and scaled features gets a fair score; a model that finds the
thresholds and interactions by itself (gradient-boosted trees) does clearly better.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

N_TRAIN = 20_000
N_TEST = 10_000
NOISE = 0.015  # share of labels flipped at random

REGIONS = np.array(["Seoul", "Busan", "Incheon", "Daegu", "Daejeon", "Gwangju", "Gangwon", "Jeju"])
REGION_P = np.array([0.34, 0.14, 0.12, 0.10, 0.09, 0.08, 0.07, 0.06])
REGION_EFFECT = np.array([0.0, 0.10, 0.05, -0.05, 0.0, 0.15, -0.10, 0.30])
PLANS = np.array(["basic", "standard", "premium", "family"])
PAYMENTS = np.array(["credit_card", "bank_transfer", "electronic_check", "mailed_check"])
CHANNELS = np.array(["online", "store", "referral", "telesales", "partner"])
INTERNET = np.array(["fiber", "dsl", "none"])
OS = np.array(["android", "ios", "other"])


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def _choice(rng: np.random.Generator, values: np.ndarray, p: np.ndarray | list[float], n: int) -> np.ndarray:
    return values[rng.choice(len(values), size=n, p=np.asarray(p, dtype=float))]


def _customers(rng: np.random.Generator, n: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Features as a customer database would hold them, and the true churn logit."""
    contract = _choice(rng, np.array(["month-to-month", "one_year", "two_year"]), [0.55, 0.25, 0.20], n)
    m2m = contract == "month-to-month"
    two = contract == "two_year"
    # tenure: long contracts belong to older customers
    tenure = np.where(m2m, rng.gamma(1.2, 14.0, n), rng.gamma(2.5, 14.0, n))
    tenure = np.clip(np.floor(tenure), 0, 72).astype(int)
    age = np.clip(rng.normal(44, 14, n), 18, 85).round()
    plan = _choice(rng, PLANS, [0.35, 0.35, 0.15, 0.15], n)
    internet = _choice(rng, INTERNET, [0.45, 0.40, 0.15], n)
    fiber = internet == "fiber"
    base = pd.Series(plan).map({"basic": 25.0, "standard": 45.0, "premium": 70.0, "family": 85.0}).to_numpy()
    monthly = base + np.where(fiber, 22.0, np.where(internet == "dsl", 8.0, 0.0)) + rng.normal(0, 9.0, n)
    monthly = np.clip(monthly, 15.0, 150.0)
    total = monthly * tenure * rng.normal(1.0, 0.05, n)
    lines = 1 + rng.poisson(np.where(plan == "family", 2.2, 0.4))
    data_gb = np.exp(rng.normal(np.where(internet == "none", 0.5, 2.8), 0.8))
    devices = 1 + rng.poisson(np.where(plan == "family", 3.0, 1.0))
    payment = _choice(rng, PAYMENTS, [0.32, 0.25, 0.28, 0.15], n)
    echeck = payment == "electronic_check"
    paperless = np.where(rng.random(n) < np.where(echeck, 0.8, 0.55), "yes", "no")
    late = rng.poisson(np.where(echeck, 0.9, 0.35))
    support = rng.poisson(np.where(fiber, 1.6, 1.0) + 0.02 * (age - 44).clip(0))
    minutes = np.clip(rng.normal(180 - 1.2 * (age - 44), 60, n), 0, None)
    satisfaction = np.clip(np.round(rng.normal(3.6 - 0.35 * (support - 1.2), 0.9)), 1, 5)
    channel = _choice(rng, CHANNELS, [0.35, 0.25, 0.15, 0.15, 0.10], n)
    region_idx = rng.choice(len(REGIONS), size=n, p=REGION_P)
    device_os = _choice(rng, OS, [0.6, 0.35, 0.05], n)
    has_app = rng.random(n) < np.where(age < 60, 0.8, 0.45)
    days_login = np.where(has_app, np.floor(rng.exponential(np.where(m2m, 12.0, 6.0))), np.nan)
    promo = rng.random(n) < 0.3
    promo_end = np.where(promo, rng.integers(-120, 120, n), 99999)  # days from now; < 0: already ended

    z = -3.4 * np.ones(n)
    z += np.where(m2m, 1.2, np.where(two, -1.5, -0.3))
    z += -0.45 * np.log1p(tenure) + np.where(m2m & (tenure < 6), 1.8, 0.0)
    z += np.where(fiber, 0.2, np.where(internet == "none", -0.4, 0.0))
    z += np.where(fiber & (monthly > 85.0), 1.6, 0.0)
    z += np.where(support >= 4, 1.8, 0.0)
    z += np.where((support >= 3) & (satisfaction <= 2), 1.5, 0.0) - 0.2 * (satisfaction - 3)
    z += np.where(echeck, 0.6, 0.0) + np.where(late >= 2, 0.9, 0.0)
    z += 0.0025 * (age - 45.0) ** 2 - 0.5
    # paying for fiber but hardly using it, or needing more than DSL gives: both leave
    z += np.where(fiber & (data_gb < 8.0), 1.2, 0.0) + np.where((internet == "dsl") & (data_gb > 30.0), 1.4, 0.0)
    z += np.where(has_app, np.where(days_login > 14, 1.5, -0.4), 0.4)
    ended = promo & (promo_end < 0) & (promo_end > -60)
    z += np.where(ended & m2m, 2.2, np.where(ended, 0.4, 0.0)) + np.where(promo & (promo_end >= 0), -0.4, 0.0)
    z += np.where(channel == "referral", -0.4, np.where(channel == "telesales", 0.35, 0.0))
    z += REGION_EFFECT[region_idx]
    z += -0.15 * (lines - 1) + np.where(paperless == "yes", 0.1, 0.0)

    z = 1.25 * z + 0.3

    # what the database shows: missing values, some of them informative
    age_shown = np.where(rng.random(n) < 0.06, np.nan, age)
    data_shown = np.where(rng.random(n) < 0.08, np.nan, data_gb.round(2))
    sat_missing = rng.random(n) < np.where(satisfaction <= 2, 0.5, 0.7)
    sat_shown = np.where(sat_missing, np.nan, satisfaction)
    total_shown = np.where((tenure == 0) | (rng.random(n) < 0.01), np.nan, total.round(2))
    channel_shown = np.where(rng.random(n) < 0.07, None, channel)
    os_shown = np.where(has_app, device_os, None)
    promo_shown = np.where(promo, promo_end, np.nan)
    frame = pd.DataFrame({
        "contract": contract,
        "tenure_months": tenure,
        "age": age_shown,
        "region": REGIONS[region_idx],
        "plan": plan,
        "internet_service": internet,
        "monthly_charges": monthly.round(2),
        "total_charges": total_shown,
        "phone_lines": lines,
        "devices": devices,
        "data_usage_gb": data_shown,
        "avg_call_minutes": minutes.round(1),
        "support_calls_90d": support,
        "satisfaction_score": sat_shown,
        "payment_method": payment,
        "paperless_billing": paperless,
        "late_payments_12m": late,
        "acquisition_channel": channel_shown,
        "app_os": os_shown,
        "days_since_app_login": days_login,
        "promo_days_left": promo_shown,
    })
    return frame, z


def make_data(seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng([seed, 2026])
    n = N_TRAIN + N_TEST
    frame, logit = _customers(rng, n)
    churn = (rng.random(n) < _sigmoid(logit)).astype(int)
    flip = rng.random(n) < NOISE
    churn = np.where(flip, 1 - churn, churn)
    ids = 100_000 + rng.permutation(n)
    frame.insert(0, "customer_id", ids)
    frame["churn"] = churn
    # integer columns with missing values stay integers in the CSV (no '.0')
    for col in ("age", "satisfaction_score", "days_since_app_login", "promo_days_left"):
        frame[col] = frame[col].astype("Int64")
    train = frame.iloc[:N_TRAIN].sort_values("customer_id").reset_index(drop=True)
    test = frame.iloc[N_TRAIN:].sort_values("customer_id").reset_index(drop=True)
    return train, test
