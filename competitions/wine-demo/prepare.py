"""Data of the wine-demo competition: scikit-learn's bundled wine data, split into a
labelled train part and a hidden labelled test part.  Deterministic from ``seed``."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.datasets import load_wine
from sklearn.model_selection import train_test_split

CULTIVARS = np.array(["barolo", "grignolino", "barbera"])


def make_data(seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    wine = load_wine(as_frame=True)
    frame = wine.frame.rename(columns=lambda c: c.replace("/", "_"))
    frame = frame.rename(columns={"target": "cultivar"})
    frame["cultivar"] = CULTIVARS[frame["cultivar"].to_numpy()]
    rng = np.random.default_rng(seed)
    frame.insert(0, "id", rng.permutation(len(frame)) + 1000)
    train, test = train_test_split(frame, test_size=0.4, stratify=frame["cultivar"], random_state=seed)
    return train.sort_values("id").reset_index(drop=True), test.sort_values("id").reset_index(drop=True)
