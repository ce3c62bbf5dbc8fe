"""Deterministic splits: the public/private partition of the test set and the CV folds
of the training set.  Same inputs and seed → the same split on every machine."""

from __future__ import annotations

import numpy as np


def public_mask(y: np.ndarray | None, fraction: float, seed: int, *, stratify: bool) -> np.ndarray:
    """A boolean mask, True for the rows scored on the public leaderboard.

    Stratified by ``y`` (classification) so both parts see every class in proportion;
    at least one row lands on each side.
    """
    n = len(y) if y is not None else 0
    if n < 2:
        raise ValueError("the test set needs at least 2 rows to have a public and a private part")
    rng = np.random.default_rng([seed, 1])
    mask = np.zeros(n, dtype=bool)
    if stratify and y is not None:
        classes, codes = np.unique(np.asarray(y).astype(str), return_inverse=True)
        # Walk the classes in a shuffled order, carrying the rounding remainder so the
        # public part has round(fraction * n) rows overall.
        order = rng.permutation(n)
        carry = 0.0
        for k in range(len(classes)):
            rows = order[codes[order] == k]
            exact = fraction * len(rows) + carry
            take = int(np.floor(exact + 0.5))
            carry = exact - take
            mask[rows[:take]] = True
    else:
        mask[rng.permutation(n)[: round(fraction * n)]] = True
    if mask.all():
        mask[rng.integers(n)] = False
    if not mask.any():
        mask[rng.integers(n)] = True
    return mask


def assign_folds(
    y: np.ndarray,
    k: int,
    seed: int,
    *,
    stratified: bool,
    groups: np.ndarray | None = None,
) -> np.ndarray:
    """Fold number (0..k-1) of every training row, with scikit-learn's splitters:
    StratifiedKFold / KFold (shuffled with ``seed``), StratifiedGroupKFold / GroupKFold
    when a group column is given (a group never straddles two folds)."""
    from sklearn.model_selection import GroupKFold, KFold, StratifiedGroupKFold, StratifiedKFold

    n = len(y)
    if n < k:
        raise ValueError(f"{k} folds need at least {k} training rows (there are {n})")
    y_arr = np.asarray(y)
    if stratified:
        _, counts = np.unique(y_arr.astype(str), return_counts=True)
        if counts.min() < k:
            raise ValueError(
                f"stratified {k}-fold CV needs every class at least {k} times in train; "
                f"the rarest class has {counts.min()} rows. Use fewer folds or stratified = false."
            )
    if groups is not None:
        splitter = (StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed) if stratified
                    else GroupKFold(n_splits=k, shuffle=True, random_state=seed))
        split = splitter.split(np.zeros(n), y_arr.astype(str), groups)
    elif stratified:
        split = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed).split(np.zeros(n), y_arr.astype(str))
    else:
        split = KFold(n_splits=k, shuffle=True, random_state=seed).split(np.zeros(n))
    folds = np.full(n, -1, dtype=np.int64)
    for number, (_, held_out) in enumerate(split):
        folds[held_out] = number
    return folds
