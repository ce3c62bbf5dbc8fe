"""Lab 05 — Decision trees, random forests, SVM, boosting."""

from _build import code, md, prose, solution, test
from _common import checklist, header

CELLS = [
    header(
        "Lab 05 — Trees, forests, SVMs and boosting (결정 트리 · 랜덤 포레스트 · SVM · 부스팅)",
        [
            "compute Gini impurity (지니 불순도) and find the best split of one feature, as a tree does",
            "train four classifiers and compare them on the same held-out data",
            "read a random forest's feature importances (특성 중요도)",
        ],
        "05 — Decision trees, random forests, SVM, boosting",
        50,
    ),
    code("setup", """
        import numpy as np
        from sklearn.datasets import load_breast_cancer
        from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
        from sklearn.model_selection import train_test_split
        from sklearn.pipeline import Pipeline, make_pipeline
        from sklearn.preprocessing import StandardScaler
        from sklearn.svm import SVC
        from sklearn.tree import DecisionTreeClassifier

        data = load_breast_cancer()
        X_train, X_test, y_train, y_test = train_test_split(
            data.data, data.target, test_size=0.25, stratify=data.target, random_state=0)
        feature_names = list(data.feature_names)
        """),
    md("task1_md", """
        ## Task 1 — Gini impurity and the best split (3 points)

        A node's **Gini impurity** (지니 불순도) is $G = 1 - \\sum_c p_c^2$, where $p_c$ is the fraction of
        the node's samples in class $c$: 0 for a pure node, 0.5 for a 50/50 binary node.

        1. `gini(labels)`: the Gini impurity of an array of integer labels (0 for an empty array).
        2. `best_split(x, y)`: for one feature `x`, try every threshold halfway between two
           consecutive **distinct** sorted values of `x`; a split sends `x <= t` left and the rest right.
           Return `(threshold, impurity)` of the split with the lowest **weighted** impurity
           $\\frac{n_L}{n} G_L + \\frac{n_R}{n} G_R$ (the first one on ties). This is exactly the search
           a decision tree runs for every feature at every node.
        """),
    solution("gini", """
        def gini(labels):
            ### BEGIN SOLUTION
            labels = np.asarray(labels)
            if labels.size == 0:
                return 0.0
            p = np.bincount(labels) / labels.size
            return float(1 - np.sum(p ** 2))
            ### END SOLUTION
        """, wrong="""
        def gini(labels):
            labels = np.asarray(labels)
            p = np.bincount(labels) / max(labels.size, 1)
            return float(1 - np.sum(p))   # forgot the square: always 0
        """),
    solution("best_split", """
        def best_split(x, y):
            ### BEGIN SOLUTION
            x, y = np.asarray(x, float), np.asarray(y)
            values = np.unique(x)
            best = (None, np.inf)
            for t in (values[:-1] + values[1:]) / 2:
                left = x <= t
                impurity = (left.sum() * gini(y[left]) + (~left).sum() * gini(y[~left])) / len(y)
                if impurity < best[1]:
                    best = (float(t), float(impurity))
            return best
            ### END SOLUTION
        """, wrong="""
        def best_split(x, y):
            x, y = np.asarray(x, float), np.asarray(y)
            values = np.unique(x)
            best = (None, np.inf)
            for t in (values[:-1] + values[1:]) / 2:
                left = x <= t
                impurity = gini(y[left]) + gini(y[~left])   # not weighted by the size of each side
                if impurity < best[1]:
                    best = (float(t), float(impurity))
            return best
        """),
    test("test_gini", 1, """
        assert np.isclose(gini([0, 0, 1, 1]), 0.5)
        assert np.isclose(gini([1, 1, 1]), 0.0)
        ### BEGIN HIDDEN TESTS
        assert np.isclose(gini([0, 1, 2]), 2 / 3)
        assert np.isclose(gini([0, 0, 0, 2]), 1 - (0.75 ** 2 + 0.25 ** 2))
        assert gini(np.array([], dtype=int)) == 0.0
        ### END HIDDEN TESTS
        """, needs=["gini"]),
    test("test_best_split", 2, """
        t, g = best_split([1.0, 2.0, 3.0, 10.0, 11.0, 12.0], [0, 0, 0, 1, 1, 1])
        assert np.isclose(t, 6.5) and np.isclose(g, 0.0), f"expected (6.5, 0.0), got {(t, g)}"
        ### BEGIN HIDDEN TESTS
        t, g = best_split([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [0, 0, 0, 0, 0, 0, 0, 0, 1, 0])
        assert np.isclose(t, 8.5) and np.isclose(g, 0.2 * 0.5 * 1 + 0), (t, g)
        stump = DecisionTreeClassifier(max_depth=1).fit(X_train[:, [7]], y_train)
        t, g = best_split(X_train[:, 7], y_train)
        assert np.isclose(t, stump.tree_.threshold[0]), "the same threshold a depth-1 tree picks"
        ### END HIDDEN TESTS
        """, needs=["gini", "best_split"]),
    md("task2_md", """
        ## Task 2 — four classifiers (3 points)

        Write `fit_models(X, y)` that returns a dict of **fitted** models:

        | key | model |
        |---|---|
        | `"tree"` | `DecisionTreeClassifier(max_depth=4, random_state=0)` |
        | `"forest"` | `RandomForestClassifier(n_estimators=100, random_state=0)` — bagging (배깅) of trees |
        | `"svm"` | `SVC(C=1.0)` (RBF kernel, 커널) **behind a `StandardScaler`** in a pipeline |
        | `"boosting"` | `GradientBoostingClassifier(random_state=0)` — trees fitted one after another on the errors |
        """),
    solution("models", """
        def fit_models(X, y):
            ### BEGIN SOLUTION
            models = {
                "tree": DecisionTreeClassifier(max_depth=4, random_state=0),
                "forest": RandomForestClassifier(n_estimators=100, random_state=0),
                "svm": make_pipeline(StandardScaler(), SVC(C=1.0)),
                "boosting": GradientBoostingClassifier(random_state=0),
            }
            return {name: model.fit(X, y) for name, model in models.items()}
            ### END SOLUTION
        """, wrong="""
        def fit_models(X, y):
            models = {
                "tree": DecisionTreeClassifier(max_depth=4, random_state=0),
                "forest": RandomForestClassifier(n_estimators=100, random_state=0),
                "svm": SVC(C=1.0),   # no scaler
                "boosting": GradientBoostingClassifier(random_state=0),
            }
            return {name: model.fit(X, y) for name, model in models.items()}
        """),
    code("run_models", """
        models = fit_models(X_train, y_train)
        scores = {name: model.score(X_test, y_test) for name, model in models.items()}
        for name, score in scores.items():
            print(f"{name:9s} test accuracy {score:.3f}")
        """),
    test("test_models", 3, """
        assert set(models) == {"tree", "forest", "svm", "boosting"}
        assert scores["tree"] > 0.85 and scores["forest"] > 0.9
        ### BEGIN HIDDEN TESTS
        assert isinstance(models["svm"], Pipeline) and isinstance(models["svm"][0], StandardScaler), \\
            "the SVM needs a StandardScaler in front"
        assert scores["svm"] > 0.95 and scores["boosting"] > 0.9
        assert len(models["forest"].estimators_) == 100
        assert models["tree"].get_depth() <= 4
        ### END HIDDEN TESTS
        """, needs=["models"]),
    md("task3_md", """
        ## Task 3 — what the forest looks at (2 points)

        Write `top_features(forest, names, n)`: the names of the `n` features with the largest
        `feature_importances_`, most important first.
        """),
    solution("importances", """
        def top_features(forest, names, n):
            ### BEGIN SOLUTION
            order = np.argsort(forest.feature_importances_)[::-1][:n]
            return [names[i] for i in order]
            ### END SOLUTION

        print(top_features(models["forest"], feature_names, 5))
        """),
    test("test_importances", 2, """
        top = top_features(models["forest"], feature_names, 5)
        assert len(top) == 5 and all(name in feature_names for name in top)
        ### BEGIN HIDDEN TESTS
        imp = models["forest"].feature_importances_
        assert [feature_names[i] for i in sorted(range(30), key=lambda i: -imp[i])[:5]] == top
        ### END HIDDEN TESTS
        """, needs=["models", "importances"], checks=["importances"]),
    md("q1_md", """
        ## Question (2 points, graded by hand)

        In three or four sentences: why does the SVM need the `StandardScaler` while the random forest
        does not — and what is the difference between how a random forest (bagging, 배깅) and gradient
        boosting (부스팅) combine their trees?
        """),
    prose("q1_svm_forest", 2, """
        An RBF SVM measures similarity by distances between samples, so features with large ranges
        (area ≈ 1000s) would swamp those with small ones (smoothness ≈ 0.1) — the same reason KNN needs
        scaling. Trees only compare one feature at a time against a threshold, which does not care about
        the unit. A random forest trains many deep trees independently on bootstrap samples (and random
        feature subsets) and averages them, which reduces variance; gradient boosting trains shallow
        trees one after another, each fitted to the errors (gradients) of the ensemble so far, which
        reduces bias.
        """),
    checklist(),
]

HALF = {"fill": ["gini", "best_split", "models"], "wrong": ["best_split"]}
