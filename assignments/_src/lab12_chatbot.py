# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "intro", "locked": true, "schema_version": 3, "solution": false, "task": false}
# # Lab 12 — A help-desk chatbot (챗봇 구축)
#
# Follows lecture **13 — Building a chatbot**. About 60 minutes.
#
# **In this lab you will**
#
# - standardise and tokenise (토큰화) English and Korean text into words and character n-grams
# - build a vocabulary (어휘 사전) and turn utterances into bag-of-tokens features
# - train an intent classifier (의도 분류기) and evaluate it per intent with the F1 score
# - write the bot's response policy: answer when confident, fall back (폴백) and ask back (되묻기) when not
#
# The data is the course's help-desk corpus, `intents.csv` (next to this notebook): one row per
# utterance with its `intent`, `language` (`en` or `ko`), `text`, `source` (`hand` or `template`)
# and `split` (`train`, `test`, or `oos` for out-of-scope questions that no intent covers).
#
# **How it works**
#
# - Write your code where it says `# YOUR CODE HERE` and delete the `raise NotImplementedError()`
#   line. Answer the written questions where it says "YOUR ANSWER HERE".
# - Each task is followed by a test cell. The visible `assert`s are there to help you; the
#   grader also runs **hidden tests** that check your answer more thoroughly — passing the
#   visible tests is necessary, not sufficient.
# - Do not rename functions or variables the tests use, and do not delete or edit the locked
#   cells (they are restored before grading anyway).
# - Before you submit: **Kernel → Restart Kernel and Run All Cells**. The grader runs your
#   notebook top to bottom in a fresh kernel, without internet, with a time limit. If it only
#   works when you run cells out of order, it does not work.

# %% deletable=false editable=false nbgrader={"grade": false, "grade_id": "setup", "locked": true, "schema_version": 3, "solution": false, "task": false}
import re
from collections import Counter

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import train_test_split

corpus = pd.read_csv("intents.csv")
train = corpus[corpus.split == "train"].reset_index(drop=True)
test = corpus[corpus.split == "test"].reset_index(drop=True)
oos = corpus[corpus.split == "oos"].reset_index(drop=True)        # out of scope: never trained on
hand = train[train.source == "hand"]
_, val = train_test_split(hand, test_size=0.2, random_state=0, stratify=hand.intent + hand.language)
fit = train.drop(index=val.index).reset_index(drop=True)           # what the classifier learns from
val = val.reset_index(drop=True)                                   # for choosing the fallback threshold
INTENTS = sorted(train.intent.unique())
print(len(fit), "fit,", len(val), "validation,", len(test), "test,", len(oos), "out of scope;", len(INTENTS), "intents")
train.sample(5, random_state=1)

# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "task1_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 1 — standardise and tokenise (2 points)
#
# 1. `normalise(text)`: lower-case the text, replace every character that is not a letter, a digit,
#    `_` or whitespace by a space (the regular expression `[^\w\s]` matches exactly those; `\w`
#    includes Hangul), and return the words joined by single spaces, without leading or trailing
#    spaces. `"When is Lab 3 due?!"` → `"when is lab 3 due"`.
# 2. `tokenize(text, sizes=(2, 3))`: for each word of `normalise(text)`, in order, the word itself
#    followed by the character n-grams of the word **with boundary markers** `<` and `>`: for every
#    `n` in `sizes`, in that order, every run of `n` consecutive characters of `"<" + word + ">"`,
#    left to right. `tokenize("과제는")` →
#    `["과제는", "<과", "과제", "제는", "는>", "<과제", "과제는", "제는>"]`.
#
# The n-grams are what lets "과제는" and "과제를" (one noun with two different particles, 조사)
# share tokens; the markers tell a prefix (`<과`) from the same letters inside a word.

# %% nbgrader={"grade": false, "grade_id": "normalise", "locked": false, "schema_version": 3, "solution": true, "task": false}
def normalise(text):
    ### BEGIN SOLUTION
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())
    ### END SOLUTION


# %% deletable=false editable=false nbgrader={"grade": true, "grade_id": "test_normalise", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
assert normalise("When is Lab 3 due?!") == "when is lab 3 due"
assert normalise("  랩 3 마감이   언제예요? ") == "랩 3 마감이 언제예요"
### BEGIN HIDDEN TESTS
assert normalise("docker: command-not-found...") == "docker command not found"
assert normalise("ÉCOLE\tand\nlab_01") == "école and lab_01"
assert normalise("?!.") == ""
assert normalise("과제2, 언제까지?") == "과제2 언제까지"
### END HIDDEN TESTS

# %% nbgrader={"grade": false, "grade_id": "tokenize", "locked": false, "schema_version": 3, "solution": true, "task": false}
def tokenize(text, sizes=(2, 3)):
    ### BEGIN SOLUTION
    tokens = []
    for word in normalise(text).split():
        marked = "<" + word + ">"
        tokens.append(word)
        for n in sizes:
            tokens += [marked[i:i + n] for i in range(len(marked) - n + 1)]
    return tokens
    ### END SOLUTION


# %% deletable=false editable=false nbgrader={"grade": true, "grade_id": "test_tokenize", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
assert tokenize("과제는") == ["과제는", "<과", "과제", "제는", "는>", "<과제", "과제는", "제는>"]
assert tokenize("Hi!", sizes=(2,)) == ["hi", "<h", "hi", "i>"]
### BEGIN HIDDEN TESTS
assert tokenize("") == []
assert tokenize("lab 3", sizes=(3,)) == ["lab", "<la", "lab", "ab>", "3", "<3>"]
assert tokenize("a b", sizes=(2, 3)) == ["a", "<a", "a>", "<a>", "b", "<b", "b>", "<b>"]
assert len(tokenize("When is LAB 3 due?")) == 5 + sum(len(w) + 1 + len(w) for w in ["when", "is", "lab", "3", "due"])
assert set(tokenize("과제를")) & set(tokenize("과제는")) == {"<과", "과제", "<과제"}
### END HIDDEN TESTS

# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "task2_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 2 — vocabulary and features (2 points)
#
# 1. `build_vocab(token_lists, min_count=1)`: a dict token → index. Index 0 is `"<pad>"` and 1 is
#    `"<unk>"` (unknown); then every token that occurs at least `min_count` times in `token_lists`
#    (a list of token lists), the most frequent first, ties in alphabetical order, numbered 2, 3, ….
# 2. `bag_of_tokens(token_lists, vocab)`: a float array of shape `(len(token_lists), len(vocab))`
#    whose entry `[i, j]` counts how often token `j` occurs in list `i`; tokens missing from the
#    vocabulary count for `"<unk>"`. (This is the multi-hot/count encoding that an `Embedding`
#    followed by sum-pooling computes without building the matrix.)

# %% nbgrader={"grade": false, "grade_id": "vocab", "locked": false, "schema_version": 3, "solution": true, "task": false}
def build_vocab(token_lists, min_count=1):
    ### BEGIN SOLUTION
    counts = Counter(token for tokens in token_lists for token in tokens)
    kept = sorted((t for t, c in counts.items() if c >= min_count), key=lambda t: (-counts[t], t))
    vocab = {"<pad>": 0, "<unk>": 1}
    for token in kept:
        vocab[token] = len(vocab)
    return vocab
    ### END SOLUTION


# %% deletable=false editable=false nbgrader={"grade": true, "grade_id": "test_vocab", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
v = build_vocab([["b", "a", "b"], ["c", "b", "a"]])
assert v == {"<pad>": 0, "<unk>": 1, "b": 2, "a": 3, "c": 4}, v
### BEGIN HIDDEN TESTS
assert build_vocab([["b", "a", "b"], ["c", "b", "a"]], min_count=2) == {"<pad>": 0, "<unk>": 1, "b": 2, "a": 3}
assert build_vocab([]) == {"<pad>": 0, "<unk>": 1}
big = build_vocab([tokenize(t) for t in fit.text])
assert sorted(big.values()) == list(range(len(big)))
counts = Counter(t for text in fit.text for t in tokenize(text))
assert list(big)[2:12] == sorted(counts, key=lambda t: (-counts[t], t))[:10], "most frequent first, ties alphabetical"
assert all(counts[a] >= counts[b] for a, b in zip(list(big)[2:], list(big)[3:]))
### END HIDDEN TESTS

# %% nbgrader={"grade": false, "grade_id": "bag", "locked": false, "schema_version": 3, "solution": true, "task": false}
def bag_of_tokens(token_lists, vocab):
    ### BEGIN SOLUTION
    X = np.zeros((len(token_lists), len(vocab)))
    for i, tokens in enumerate(token_lists):
        for token in tokens:
            X[i, vocab.get(token, 1)] += 1
    return X
    ### END SOLUTION


# %% deletable=false editable=false nbgrader={"grade": true, "grade_id": "test_bag", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
v = build_vocab([["b", "a", "b"], ["c", "b", "a"]])
X = bag_of_tokens([["a", "a", "c"], ["zzz"]], v)
assert X.shape == (2, 5)
assert X[0].tolist() == [0, 0, 0, 2, 1]
### BEGIN HIDDEN TESTS
assert X[1].tolist() == [0, 1, 0, 0, 0], "unknown tokens count for <unk>"
assert bag_of_tokens([[]], v).tolist() == [[0, 0, 0, 0, 0]]
big = build_vocab([tokenize(t) for t in fit.text[:50]])
Xb = bag_of_tokens([tokenize(t) for t in fit.text[:50]], big)
assert Xb.shape == (50, len(big)) and Xb[:, 1].sum() == 0 and Xb.sum() == sum(len(tokenize(t)) for t in fit.text[:50])
### END HIDDEN TESTS

# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "task3_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 3 — an intent classifier (2 points)
#
# 1. Set `vocab = build_vocab(...)` from the tokens of the **fit** utterances (`fit.text`), and
#    `X_fit`, `X_val`, `X_test`, `X_oos` = the bag-of-tokens features of `fit`, `val`, `test` and
#    `oos`.
# 2. Train `clf = LogisticRegression(C=10, max_iter=1000)` on `X_fit` and `fit.intent` (the intent
#    names are the labels), and set `test_acc` to its accuracy on the test set.
#
# It takes a few seconds. A small Keras model (lecture 13) reaches about the same accuracy.

# %% nbgrader={"grade": false, "grade_id": "classifier", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
vocab = build_vocab([tokenize(t) for t in fit.text])
X_fit, X_val, X_test, X_oos = (bag_of_tokens([tokenize(t) for t in part.text], vocab) for part in (fit, val, test, oos))
clf = LogisticRegression(C=10, max_iter=1000).fit(X_fit, fit.intent)
test_acc = clf.score(X_test, test.intent)
### END SOLUTION
print(f"{len(vocab)} tokens in the vocabulary; test accuracy {test_acc:.3f}")

# %% deletable=false editable=false nbgrader={"grade": true, "grade_id": "test_classifier", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
assert X_fit.shape == (len(fit), len(vocab)) and X_test.shape == (len(test), len(vocab))
assert test_acc > 0.80, f"the subword classifier should reach more than 80% on the test set, got {test_acc:.3f}"
### BEGIN HIDDEN TESTS
assert isinstance(clf, LogisticRegression) and clf.C == 10
assert list(clf.classes_) == INTENTS, "train on the intent names"
assert np.isclose(np.mean(clf.predict(X_test) == test.intent), test_acc)
assert X_val.shape == (len(val), len(vocab)) and X_oos.shape == (len(oos), len(vocab))
assert vocab == build_vocab([tokenize(t) for t in fit.text]), "the vocabulary comes from the fit utterances only"
for language in ("en", "ko"):
    part = (test.language == language).to_numpy()
    assert np.mean(clf.predict(X_test[part]) == test.intent[part]) > 0.75, language
### END HIDDEN TESTS

# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "task4_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 4 — the response policy (2 points)
#
# The classifier always picks an intent, even for "what's the weather tomorrow". The bot should
# answer only when it is confident, and otherwise ask back.
#
# 1. `respond(probs, classes, threshold)`: `probs` is an array of shape `(n, k)` of class
#    probabilities (rows sum to 1) and `classes` the `k` class names. Return a list of `n` strings:
#    for each row, the class with the highest probability if that probability is **at least**
#    `threshold`, else `"fallback"`.
# 2. `choose_threshold(confidences, share)`: the threshold that answers the given `share` of a
#    set of utterances whose confidences (highest probabilities) are `confidences`: the
#    `(1 - share)` quantile, `np.quantile(confidences, 1 - share)`, as a float. We choose it on the
#    **validation** set, never on the test set.

# %% nbgrader={"grade": false, "grade_id": "respond", "locked": false, "schema_version": 3, "solution": true, "task": false}
def respond(probs, classes, threshold):
    ### BEGIN SOLUTION
    probs = np.asarray(probs)
    best = probs.argmax(axis=1)
    return [classes[j] if probs[i, j] >= threshold else "fallback" for i, j in enumerate(best)]
    ### END SOLUTION


# %% deletable=false editable=false nbgrader={"grade": true, "grade_id": "test_respond", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
p = np.array([[0.7, 0.2, 0.1], [0.4, 0.35, 0.25]])
assert respond(p, ["a", "b", "c"], 0.5) == ["a", "fallback"]
### BEGIN HIDDEN TESTS
assert respond(p, ["a", "b", "c"], 0.4) == ["a", "a"], "at least the threshold answers"
assert respond(p, ["a", "b", "c"], 0.0) == ["a", "a"]
assert respond(np.array([[0.1, 0.3, 0.6]]), ["x", "y", "z"], 0.9) == ["fallback"]
assert respond(np.array([[0.1, 0.3, 0.6]]), ["x", "y", "z"], 0.6) == ["z"]
assert respond(np.empty((0, 3)), ["x", "y", "z"], 0.5) == []
### END HIDDEN TESTS

# %% nbgrader={"grade": false, "grade_id": "threshold", "locked": false, "schema_version": 3, "solution": true, "task": false}
def choose_threshold(confidences, share):
    ### BEGIN SOLUTION
    return float(np.quantile(np.asarray(confidences), 1 - share))
    ### END SOLUTION


# %% deletable=false editable=false nbgrader={"grade": true, "grade_id": "test_threshold", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
c = np.linspace(0, 1, 101)
assert np.isclose(choose_threshold(c, 0.9), 0.1)
### BEGIN HIDDEN TESTS
assert isinstance(choose_threshold(c, 0.5), float)
assert np.isclose(choose_threshold(c, 1.0), 0.0) and np.isclose(choose_threshold(c, 0.25), 0.75)
r = np.random.default_rng(0).uniform(size=500)
t = choose_threshold(r, 0.8)
assert abs(np.mean(r >= t) - 0.8) < 0.01
### END HIDDEN TESTS

# %% deletable=false editable=false nbgrader={"grade": false, "grade_id": "policy_demo", "locked": true, "schema_version": 3, "solution": false, "task": false}
# The policy on the real data (runs once Tasks 3 and 4 are done; nothing to write here).
threshold = choose_threshold(clf.predict_proba(X_val).max(axis=1), 0.9)
on_test = np.array(respond(clf.predict_proba(X_test), clf.classes_, threshold))
on_oos = np.array(respond(clf.predict_proba(X_oos), clf.classes_, threshold))
answered = on_test != "fallback"
print(f"threshold {threshold:.3f}: answers {answered.mean():.0%} of the test questions, "
      f"{np.mean(on_test[answered] == test.intent[answered]):.1%} of those correctly; "
      f"asks back on {np.mean(on_oos == 'fallback'):.0%} of the out-of-scope ones")
for text, said in list(zip(oos.text, on_oos))[:6]:
    print(f"  {text!r:40} → {said}")

# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "task5_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 5 — evaluation per intent (1 point)
#
# Write `per_intent_f1(y_true, y_pred, labels)`: a pandas Series with the F1 score (precision and
# recall's harmonic mean) of each label in `labels`, indexed by the label and sorted from the
# **lowest** to the highest score. Use `sklearn.metrics.f1_score(..., average=None, labels=labels,
# zero_division=0)`. The mean of the Series is the macro F1.

# %% nbgrader={"grade": false, "grade_id": "f1", "locked": false, "schema_version": 3, "solution": true, "task": false}
def per_intent_f1(y_true, y_pred, labels):
    ### BEGIN SOLUTION
    scores = f1_score(y_true, y_pred, average=None, labels=list(labels), zero_division=0)
    return pd.Series(scores, index=list(labels)).sort_values()
    ### END SOLUTION


# %% deletable=false editable=false nbgrader={"grade": true, "grade_id": "test_f1", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
s = per_intent_f1(["a", "a", "b", "b"], ["a", "b", "b", "b"], ["a", "b"])
assert isinstance(s, pd.Series) and list(s.index) == ["a", "b"]
assert np.isclose(s["a"], 2 / 3) and np.isclose(s["b"], 0.8)
### BEGIN HIDDEN TESTS
s = per_intent_f1(["a", "b", "c", "c"], ["c", "b", "c", "c"], ["c", "b", "a"])
assert list(s.index) == ["a", "c", "b"] and s["a"] == 0.0 and np.isclose(s["c"], 0.8) and s["b"] == 1.0
r = np.random.default_rng(1)
yt, yp = r.choice(INTENTS, 200), r.choice(INTENTS, 200)
assert np.isclose(per_intent_f1(yt, yp, INTENTS).mean(), f1_score(yt, yp, average="macro", labels=INTENTS, zero_division=0))
assert per_intent_f1(yt, yp, INTENTS).is_monotonic_increasing
### END HIDDEN TESTS

# %% deletable=false editable=false nbgrader={"grade": false, "grade_id": "f1_demo", "locked": true, "schema_version": 3, "solution": false, "task": false}
scores = per_intent_f1(test.intent, clf.predict(X_test), INTENTS)
print(f"macro F1 {scores.mean():.3f}; the three hardest intents:")
print(scores.head(3).round(3))

# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "q1_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Question (1 point, graded by hand)
#
# In three or four sentences: why do character n-grams help the Korean utterances more than the
# English ones? And what do you give up when you raise the fallback threshold?

# %% [markdown] nbgrader={"grade": true, "grade_id": "q1_tokens_threshold", "locked": false, "points": 1, "schema_version": 3, "solution": true, "task": false}
# Korean is agglutinative: a word (어절) is a stem plus particles and endings, so "과제는", "과제를" and
# "과제가" are different whitespace tokens for one noun, and many test words never occur in training.
# Their character n-grams (`<과`, `과제`, …) are shared, so the model recognises the stem; English
# words change form much less, so whole words already work. A higher threshold makes the bot answer
# fewer questions (lower coverage) — it asks back more often, also when it would have been right — in
# exchange for more of its answers being right and more out-of-scope questions being caught.

# %% [markdown] deletable=false editable=false nbgrader={"grade": false, "grade_id": "checklist", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Before you submit ✔
#
# 1. Restart the kernel and run all cells: no errors, every visible test passes.
# 2. No `raise NotImplementedError()` left, every "YOUR ANSWER HERE" replaced.
# 3. `intents.csv` stays next to the notebook: the grader provides its own copy, so do not edit it.
