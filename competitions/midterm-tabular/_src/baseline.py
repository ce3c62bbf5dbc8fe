# %% [markdown]
# # Midterm: customer churn — baseline (logistic regression)
#
# A notebook submission: the leaderboard runs this notebook 5 times on folds of the training data
# (`fold` = 0..4; `test_path` then holds the held-out fold's features, never its labels) and once
# on all of it (`fold = -1`, `test_path` = the real test set). Write a churn probability for every
# row of `test_path` to `output_path` in the format of `sample_submission.csv`
# (`customer_id,churn`).
#
# The model: median imputation (with an indicator column saying *this value was missing*) and scaling for the numeric columns, a `missing` category and one-hot encoding for the categorical ones, then an L2-regularised logistic regression. It is linear in the features it sees, so it cannot find thresholds ("4 or more support calls") or interactions ("fiber *and* a high bill") by itself — that is where there is room to improve.

# %% tags=["parameters"]
# Parameters (the leaderboard replaces these)
train_path = "data/public/train.csv"
test_path = "data/public/test.csv"
output_path = "submission.csv"
fold = -1

# %%
import pandas as pd

train = pd.read_csv(train_path)
test = pd.read_csv(test_path)
ID, TARGET = "customer_id", "churn"
features = [c for c in train.columns if c not in (ID, TARGET)]
categorical = train[features].select_dtypes(exclude="number").columns.tolist()
numeric = [c for c in features if c not in categorical]
print(f"fold {fold}: {len(train)} training rows ({train[TARGET].mean():.1%} churn), {len(test)} to predict")
print(f"{len(numeric)} numeric, {len(categorical)} categorical features")

# %%
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

preprocess = ColumnTransformer([
    ("num", make_pipeline(SimpleImputer(strategy="median", add_indicator=True), StandardScaler()), numeric),
    ("cat", make_pipeline(SimpleImputer(strategy="constant", fill_value="missing"),
                          OneHotEncoder(handle_unknown="ignore")), categorical),
])
model = make_pipeline(preprocess, LogisticRegression(C=1.0, max_iter=2000))
model.fit(train[features], train[TARGET])

# %%
proba = model.predict_proba(test[features])[:, list(model.classes_).index(1)]
pd.DataFrame({ID: test[ID], TARGET: proba.round(6)}).to_csv(output_path, index=False)
print(f"wrote {len(test)} predictions to {output_path}")
