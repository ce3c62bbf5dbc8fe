"""Build the course help-desk corpus from its hand-written sources.

    python scripts/intents/make.py            # write the CSV files
    python scripts/intents/make.py --check    # write nothing; exit 1 when a file is out of date

Reads ``scripts/intents/corpus.toml`` (utterances, templates, slots, responses) and
``scripts/intents/faq.toml`` (FAQ passages) and writes into ``coursebench/data/intents/``:

- ``intents.csv``   — ``intent,language,text,source,split``: every hand-written utterance
  (``source=hand``), the template variations (``source=template``, always ``split=train``)
  and the out-of-scope utterances (``intent=out_of_scope``, ``split=oos``);
- ``responses.csv`` — ``intent,language,kind,text``: reply templates (``kind=response``),
  the intent's display name for clarifying questions (``kind=name``) and the fallback;
- ``faq.csv``       — ``id,intent,language,question,answer``;

and copies ``intents.csv`` next to lab 12's notebook (``assignments/source/lab12_chatbot/``),
which nbgrader releases with it.

The output is a pure function of the sources: the held-out test split takes, for every
intent and language, the quarter of the *hand-written* utterances with the smallest CRC-32
of their text (so adding an utterance moves no other one), and the template variations come
from a ``random.Random`` seeded with the intent and language (Python's string seeding is
stable across runs and platforms).  Template text never reaches the test split: a
variation differs from its siblings only in a slot value, and a test set made of them would
measure how well the model memorised the templates.
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import re
import sys
import zlib
from pathlib import Path

import tomllib

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
DATA = ROOT / "coursebench" / "data" / "intents"
LAB = ROOT / "assignments" / "source" / "lab12_chatbot"
LANGUAGES = ("en", "ko")
SLOT = re.compile(r"\{(\w+)(?::(\w+))?\}")

# Korean particles (조사) that depend on whether the word before ends in a consonant (받침).
PARTICLES = [("은", "는"), ("이", "가"), ("을", "를"), ("과", "와"), ("으로", "로")]
# How a final digit is read in Sino-Korean: 영 일 이 삼 사 오 육 칠 팔 구.  The value is
# the final consonant's index (0 = none, 8 = ㄹ), as for a Hangul syllable.
DIGIT_FINAL = {"0": 21, "1": 8, "2": 0, "3": 16, "4": 0, "5": 0, "6": 1, "7": 8, "8": 8, "9": 0}


def final_consonant(word: str) -> int:
    """Index of the final consonant (종성) of ``word``'s last syllable, 0 when it has none."""
    last = word.rstrip()[-1:]
    if "가" <= last <= "힣":
        return (ord(last) - ord("가")) % 28
    if last in DIGIT_FINAL:
        return DIGIT_FINAL[last]
    raise ValueError(f"cannot choose a Korean particle after {word!r}: it must end in Hangul or a digit")


def particle(word: str, written: str) -> str:
    """The form of the particle ``written`` (either form) that fits after ``word``."""
    for with_final, without in PARTICLES:
        if written in (with_final, without):
            final = final_consonant(word)
            if with_final == "으로":  # ㄹ takes 로, like a vowel
                return without if final in (0, 8) else with_final
            return with_final if final else without
    raise ValueError(f"unknown particle {written!r}; known: {PARTICLES}")


def fill(template: str, values: dict[str, str]) -> str:
    def one(match: re.Match[str]) -> str:
        value = values[match.group(1)]
        return value + particle(value, match.group(2)) if match.group(2) else value

    return " ".join(SLOT.sub(one, template).split())


def normalised(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def variations(templates: list[str], slots: dict[str, list[str]], taken: set[str], count: int,
               rng: random.Random) -> list[str]:
    """``count`` distinct fillings of ``templates`` that are not already in ``taken``."""
    found: list[str] = []
    for _ in range(200 * count):
        if len(found) == count:
            break
        template = rng.choice(templates)
        values = {name: rng.choice(slots[name]) for name, _ in SLOT.findall(template)}
        text = fill(template, values)
        if normalised(text) not in taken:
            taken.add(normalised(text))
            found.append(text)
    if len(found) < count:
        raise ValueError(f"the templates {templates} give only {len(found)} distinct variations, not {count}")
    return found


def test_set(intent: str, language: str, texts: list[str], share: float) -> set[str]:
    """The hand-written utterances held out for testing: a stable quarter of each intent."""
    k = int(len(texts) * share + 0.5)
    ranked = sorted(texts, key=lambda t: (zlib.crc32(f"{intent}|{language}|{t}".encode()), t))
    return set(ranked[:k])


def _csv(header: list[str], rows: list[list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def build(sources: Path = HERE) -> dict[str, str]:
    """File name → text of every file the corpus consists of."""
    corpus = tomllib.loads((sources / "corpus.toml").read_text(encoding="utf-8"))
    faq = tomllib.loads((sources / "faq.toml").read_text(encoding="utf-8"))
    meta = corpus["meta"]
    utterances: list[list[str]] = []
    responses: list[list[str]] = []
    for intent, spec in corpus["intents"].items():
        responses.append([intent, "en", "description", spec["description"]])
        for language in LANGUAGES:
            hand = spec[language]
            if len(set(map(normalised, hand))) != len(hand):
                raise ValueError(f"{intent}/{language}: the same utterance is written twice")
            held_out = test_set(intent, language, hand, meta["test_share"])
            utterances += [[intent, language, t, "hand", "test" if t in held_out else "train"] for t in hand]
            rng = random.Random(f"{meta['seed']}:{intent}:{language}")
            made = variations(spec["templates"][language], corpus["slots"][language], set(map(normalised, hand)),
                              meta["generated_per_intent"], rng)
            utterances += [[intent, language, t, "template", "train"] for t in made]
            responses += [[intent, language, "response", r] for r in spec["responses"][language]]
            responses.append([intent, language, "name", corpus["fallback"]["names"][language][intent]])
    for language in LANGUAGES:
        responses += [["fallback", language, "response", r] for r in corpus["fallback"]["responses"][language]]
        utterances += [["out_of_scope", language, t, "hand", "oos"] for t in corpus["out_of_scope"][language]]
    seen: dict[tuple[str, str], str] = {}
    for intent, language, text, *_ in utterances:
        key = (language, normalised(text))
        if key in seen and seen[key] != intent:
            raise ValueError(f"{text!r} is both {seen[key]} and {intent}")
        seen[key] = intent
    faq_rows = [[entry["id"], entry["intent"], language, entry[language]["q"], entry[language]["a"]]
                for entry in faq["faq"] for language in LANGUAGES]
    return {
        "intents.csv": _csv(["intent", "language", "text", "source", "split"], utterances),
        "responses.csv": _csv(["intent", "language", "kind", "text"], responses),
        "faq.csv": _csv(["id", "intent", "language", "question", "answer"], faq_rows),
    }


def targets(files: dict[str, str]) -> dict[Path, str]:
    """Where each file goes: the package's data folder, and the lab's copy."""
    out = {DATA / name: text for name, text in files.items()}
    out[LAB / "intents.csv"] = files["intents.csv"]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 when a file differs")
    args = parser.parse_args(argv)
    stale = []
    for path, text in targets(build()).items():
        if path.is_file() and path.read_text(encoding="utf-8") == text:
            continue
        stale.append(path.relative_to(ROOT))
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    verb = "out of date" if args.check else "written"
    print(f"{len(stale)} file(s) {verb}" + "".join(f"\n  {p}" for p in stale))
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
