"""The course help-desk corpus (coursebench.intents) and its generator
(scripts/intents/make.py): sizes, the fixed split, replies, reproducibility."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from coursebench import intents

ROOT = Path(__file__).resolve().parents[2]


def _make():
    spec = importlib.util.spec_from_file_location("intents_make", ROOT / "scripts" / "intents" / "make.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def corpus() -> intents.IntentCorpus:
    return intents.load()


def test_sizes_per_language_and_intent(corpus):
    assert len(corpus.intents) == 15
    both = [corpus.train, corpus.test]
    for language in intents.LANGUAGES:
        per_intent = sum(part[part.language == language].intent.value_counts() for part in both)
        assert per_intent.sum() == 510 and set(per_intent) == {34}, per_intent
        hand = sum(part[(part.language == language) & (part.source == "hand")].intent.value_counts() for part in both)
        assert set(hand) == {24}, "most of every intent is written by hand"
        assert (corpus.test.language == language).sum() == 90
        assert (corpus.out_of_scope.language == language).sum() == 25
    assert "1020 utterances in 15 intents (510 English, 510 Korean)" in corpus.message


def test_the_split_is_fixed_hand_written_and_disjoint(corpus):
    assert set(corpus.test.source) == {"hand"}, "template variations never reach the test set"
    assert set(corpus.test.intent.value_counts()) == {12}
    train_texts = set(corpus.train.text.str.lower())
    assert not train_texts & set(corpus.test.text.str.lower())
    assert not train_texts & set(corpus.out_of_scope.text.str.lower())
    again = intents.load()
    assert again.test.equals(corpus.test) and again.train.equals(corpus.train)
    X_train, X_test, y_train, y_test = corpus.split()
    assert len(X_train) == len(y_train) == 840 and len(X_test) == len(y_test) == 180
    assert [corpus.intents[i] for i in y_test[:5]] == corpus.test.intent[:5].tolist()


def test_one_language(corpus):
    ko = intents.load("ko")
    assert set(ko.train.language) == set(ko.test.language) == set(ko.faq.language) == {"ko"}
    assert ko.intents == corpus.intents and len(ko.test) == 90
    with pytest.raises(ValueError, match="en, ko"):
        intents.load("fr")


def test_replies_names_and_faq_in_both_languages(corpus):
    for intent in corpus.intents:
        for language in intents.LANGUAGES:
            assert len(corpus.responses[(intent, language)]) >= 2
            assert corpus.names[(intent, language)]
            assert corpus.reply(intent, language) == corpus.reply(intent, language)  # seeded
        assert corpus.descriptions[intent]
    assert "마감 또는 지각" in corpus.reply("fallback", "ko", options="마감 또는 지각")
    with pytest.raises(KeyError, match="late_policy"):
        corpus.reply("weather", "en")
    faq = corpus.faq
    assert len(faq) == 52 and set(faq.language.value_counts()) == {26}
    covered = set(faq.intent) - {""}
    assert covered <= set(corpus.intents) and len(covered) == 12, "every FAQ intent is a real one"
    assert (faq.intent == "").sum() == 18, "and some questions only retrieval can answer"


def test_language_detection():
    assert intents.detect_language("when is lab 3 due") == "en"
    assert intents.detect_language("lab 11 마감 언제야") == "ko"
    assert intents.detect_language("ㄱㅅ") == "ko"


def test_a_missing_corpus_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSEBENCH_INTENTS_DIR", str(tmp_path))
    with pytest.raises(FileNotFoundError, match=r"make\.py"):
        intents.load()


def test_the_generator_reproduces_the_committed_files():
    make = _make()
    for path, text in make.targets(make.build()).items():
        assert path.read_text(encoding="utf-8") == text, f"{path} is stale: run python scripts/intents/make.py"
    assert make.main(["--check"]) == 0


def test_korean_particles_follow_the_final_consonant():
    make = _make()
    assert make.fill("{lab:은} 언제까지예요", {"lab": "이번 주 과제"}) == "이번 주 과제는 언제까지예요"
    assert make.fill("{lab:는} 언제까지예요", {"lab": "CNN 실습"}) == "CNN 실습은 언제까지예요"
    assert make.fill("{lab:을} 내요", {"lab": "랩 3"}) == "랩 3을 내요"      # 삼: ㅁ
    assert make.fill("{lab:을} 내요", {"lab": "랩 2"}) == "랩 2를 내요"      # 이: none
    assert make.fill("{x:로}", {"x": "서울"}) == "서울로" and make.fill("{x:로}", {"x": "부산"}) == "부산으로"
    with pytest.raises(ValueError, match="Hangul or a digit"):
        make.fill("{lab:을}", {"lab": "lab"})
