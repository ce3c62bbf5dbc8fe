"""The course help-desk corpus: what lecture 13 and lab 12 train their chatbots on.

Fifteen intents of a campus/course help desk (deadlines, submissions, grades, GPUs, Docker,
the leaderboard, …), each with utterances in English and Korean, reply templates in both
languages, and FAQ passages for retrieval.  Written for this project and released under
CC0-1.0 (``coursebench/data/intents/README.md`` says how it was made); built from
``scripts/intents/*.toml`` by ``scripts/intents/make.py``.

>>> from coursebench import intents
>>> corpus = intents.load()                  # both languages; language="en" or "ko" for one
>>> corpus.message
'intents: 1020 utterances in 15 intents (510 English, 510 Korean); 840 train, 180 test ...'
>>> X_train, X_test, y_train, y_test = corpus.split()   # texts and intent ids, fixed split
>>> corpus.intents[y_train[0]], corpus.reply("late_policy", "ko")

The split is fixed, not random: the test set is a quarter of each intent's *hand-written*
utterances, chosen once by the generator, and the template variations are all in the
training set — so every model is compared on the same unseen phrasings.

This module imports nothing from the rest of coursebench: the lecture runner copies it
(and the data files) into the sandbox next to the notebook.
"""

from __future__ import annotations

import csv
import os
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["LANGUAGES", "IntentCorpus", "data_dir", "detect_language", "load"]

LANGUAGES = ("en", "ko")
LANGUAGE_NAMES = {"en": "English", "ko": "Korean"}
OUT_OF_SCOPE = "out_of_scope"
FALLBACK = "fallback"


def data_dir() -> Path:
    """The folder holding ``intents.csv``, ``responses.csv`` and ``faq.csv``:
    ``$COURSEBENCH_INTENTS_DIR`` if set, else the package's ``data/intents``."""
    override = os.environ.get("COURSEBENCH_INTENTS_DIR")
    return Path(override) if override else Path(__file__).resolve().parent / "data" / "intents"


def detect_language(text: str) -> str:
    """``"ko"`` when the text has any Hangul syllable or letter, else ``"en"``."""
    return "ko" if any("가" <= ch <= "힣" or "ㄱ" <= ch <= "ㆎ" for ch in text) else "en"


def _rows(name: str) -> list[dict[str, str]]:
    path = data_dir() / name
    if not path.is_file():
        raise FileNotFoundError(
            f"the help-desk corpus file {path} is missing. It ships with coursebench "
            "(coursebench/data/intents/); rebuild it with `python scripts/intents/make.py`, or set "
            "COURSEBENCH_INTENTS_DIR to a folder that has it."
        )
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@dataclass
class IntentCorpus:
    """Utterances (train / test / out of scope), reply templates and FAQ passages."""

    languages: tuple[str, ...]
    intents: list[str]
    """The intent names in a fixed order; an intent's id is its index here."""
    train: Any
    """pandas DataFrame: ``intent, language, text, source`` (``hand`` or ``template``)."""
    test: Any
    """The held-out hand-written utterances, same columns."""
    out_of_scope: Any
    """Utterances no intent covers (weather, lunch, …): for testing a fallback, never for training."""
    responses: dict[tuple[str, str], list[str]] = field(repr=False)
    """(intent, language) → reply templates; ``("fallback", lang)`` has the ``{options}`` slot."""
    names: dict[tuple[str, str], str] = field(repr=False)
    """(intent, language) → a short display name, for clarifying questions."""
    descriptions: dict[str, str] = field(repr=False)
    faq: Any = field(repr=False)
    """pandas DataFrame: ``id, intent, language, question, answer`` (``intent`` may be empty)."""

    @property
    def message(self) -> str:
        n = len(self.train) + len(self.test)
        per = ", ".join(f"{(self.train.language == lang).sum() + (self.test.language == lang).sum()} "
                        f"{LANGUAGE_NAMES[lang]}" for lang in self.languages)  # fmt: skip
        return (f"intents: {n} utterances in {len(self.intents)} intents ({per}); {len(self.train)} train, "
                f"{len(self.test)} test (hand-written), {len(self.out_of_scope)} out of scope; "
                "the course's own help-desk corpus (CC0), no download.")  # fmt: skip

    def label(self, intents: Any) -> np.ndarray:
        """Intent names → integer ids (indices into :attr:`intents`)."""
        index = {name: i for i, name in enumerate(self.intents)}
        return np.array([index[name] for name in intents], dtype=np.int64)

    def split(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``X_train, X_test, y_train, y_test``: texts (object arrays) and intent ids."""
        return (self.train.text.to_numpy(dtype=object), self.test.text.to_numpy(dtype=object),
                self.label(self.train.intent), self.label(self.test.intent))  # fmt: skip

    def reply(self, intent: str, language: str = "en", *, seed: int | None = 0, **slots: str) -> str:
        """A reply for ``intent`` in ``language``; with several templates, ``seed`` picks one
        (``None``: at random).  ``slots`` fill placeholders such as the fallback's ``{options}``."""
        templates = self.responses.get((intent, language))
        if not templates:
            known = sorted({i for i, _ in self.responses})
            raise KeyError(f"no reply for intent {intent!r} in {language!r}; intents with replies: {', '.join(known)}")
        template = (random.Random(seed) if seed is not None else random).choice(templates)
        return template.format(**slots) if slots else template


def load(language: str | None = None) -> IntentCorpus:
    """The help-desk corpus, both languages or only ``"en"`` / ``"ko"``."""
    import pandas as pd

    if language is not None and language not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)} or None (both), got {language!r}")
    languages = (language,) if language else LANGUAGES
    frame = pd.DataFrame(_rows("intents.csv"))
    frame = frame[frame.language.isin(languages)]
    columns = ["intent", "language", "text", "source"]
    parts = {split: frame[frame.split == split][columns].reset_index(drop=True) for split in ("train", "test", "oos")}
    intents = list(dict.fromkeys(parts["train"].intent))
    responses: dict[tuple[str, str], list[str]] = {}
    names: dict[tuple[str, str], str] = {}
    descriptions: dict[str, str] = {}
    for row in _rows("responses.csv"):
        key = (row["intent"], row["language"])
        if row["kind"] == "response":
            responses.setdefault(key, []).append(row["text"])
        elif row["kind"] == "name":
            names[key] = row["text"]
        elif row["kind"] == "description":
            descriptions[row["intent"]] = row["text"]
    faq = pd.DataFrame(_rows("faq.csv"))
    return IntentCorpus(
        languages=languages,
        intents=intents,
        train=parts["train"],
        test=parts["test"],
        out_of_scope=parts["oos"],
        responses=responses,
        names=names,
        descriptions=descriptions,
        faq=faq[faq.language.isin(languages)].reset_index(drop=True),
    )
