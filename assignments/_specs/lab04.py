"""Lab 04 — Clustering (k-means) and KNN, and why scaling matters."""

from _build import code, md, prose, solution, test
from _common import checklist, header

CELLS = [
    header(
        "Lab 04 — k-means and k-nearest neighbours (군집화 · 최근접 이웃)",
        [
            "choose the number of clusters (군집) with the elbow method (엘보 방법) and the silhouette score (실루엣 점수)",
            "write k-nearest-neighbour classification (KNN) yourself with NumPy",
            "measure how feature scaling (특성 스케일링) changes a distance-based model",
        ],
        "04 — Clustering and KNN",
        50,
    ),
    code("setup", """
        import numpy as np
        from sklearn.cluster import KMeans
        from sklearn.datasets import load_wine, make_blobs
        from sklearn.metrics import silhouette_score
        from sklearn.model_selection import train_test_split
        from sklearn.neighbors import KNeighborsClassifier
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        X_blobs, _ = make_blobs(n_samples=300, centers=4, cluster_std=0.8, random_state=42)
        X_wine, y_wine = load_wine(return_X_y=True)
        Xw_train, Xw_test, yw_train, yw_test = train_test_split(
            X_wine, y_wine, test_size=0.3, stratify=y_wine, random_state=0)
        """),
    md("task1_md", """
        ## Task 1 — the elbow and the silhouette (3 points)

        1. `inertias(X, ks)`: for every `k` in `ks` fit `KMeans(n_clusters=k, n_init=10, random_state=0)`
           and return the list of its `inertia_` (관성: the sum of squared distances of the points to
           their centroid, 중심점).
        2. `best_k(X, ks)`: the `k` in `ks` with the highest **silhouette score** of the same KMeans
           labels (`silhouette_score(X, labels)`). The silhouette needs at least 2 clusters, so
           `ks` will not contain 1.

        Inertia always falls as `k` grows — look for the elbow; the silhouette has a maximum.
        """),
    solution("inertias", """
        def inertias(X, ks):
            ### BEGIN SOLUTION
            return [KMeans(n_clusters=k, n_init=10, random_state=0).fit(X).inertia_ for k in ks]
            ### END SOLUTION
        """, wrong="""
        def inertias(X, ks):
            return [KMeans(n_clusters=k, n_init=10).fit(X).inertia_ for k in ks]   # no random_state: not reproducible
        """),
    solution("best_k", """
        def best_k(X, ks):
            ### BEGIN SOLUTION
            scores = [silhouette_score(X, KMeans(n_clusters=k, n_init=10, random_state=0).fit_predict(X)) for k in ks]
            return ks[int(np.argmax(scores))]
            ### END SOLUTION
        """, wrong="""
        def best_k(X, ks):
            values = [KMeans(n_clusters=k, n_init=10, random_state=0).fit(X).inertia_ for k in ks]
            return ks[int(np.argmin(values))]   # lowest inertia: always the largest k
        """),
    test("test_inertias", 1, """
        values = inertias(X_blobs, [1, 2, 3, 4, 5, 6])
        print([round(v) for v in values])
        assert len(values) == 6
        assert all(a > b for a, b in zip(values, values[1:])), "inertia falls as k grows"
        ### BEGIN HIDDEN TESTS
        assert values == inertias(X_blobs, [1, 2, 3, 4, 5, 6]), "use random_state=0: the same call must give the same result"
        assert np.isclose(values[3], KMeans(n_clusters=4, n_init=10, random_state=0).fit(X_blobs).inertia_)
        ### END HIDDEN TESTS
        """, needs=["inertias"]),
    test("test_best_k", 2, """
        k = best_k(X_blobs, [2, 3, 4, 5, 6, 7])
        print("best k:", k)
        assert k in [2, 3, 4, 5, 6, 7]
        ### BEGIN HIDDEN TESTS
        assert k == 4, "the data has four blobs"
        X3, _ = make_blobs(n_samples=200, centers=3, cluster_std=0.5, random_state=1)
        assert best_k(X3, [2, 3, 4, 5]) == 3
        ### END HIDDEN TESTS
        """, needs=["best_k"]),
    md("task2_md", """
        ## Task 2 — KNN from scratch (3 points)

        Write `knn_predict(X_train, y_train, X_query, k)`: for every row of `X_query`,

        1. compute its Euclidean distance to every training row (broadcasting: shapes
           `(n_query, 1, d)` and `(1, n_train, d)`, or the identity $\\lVert a-b\\rVert^2 = \\lVert a\\rVert^2 - 2a\\cdot b + \\lVert b\\rVert^2$),
        2. take the `k` nearest (`np.argsort` or `np.argpartition`),
        3. predict the most common label among them (on a tie: the smallest label — `np.bincount(...).argmax()` does that).

        Return an integer array of predictions. No scikit-learn here.
        """),
    solution("knn", """
        def knn_predict(X_train, y_train, X_query, k):
            ### BEGIN SOLUTION
            X_train, X_query = np.asarray(X_train, float), np.asarray(X_query, float)
            d2 = ((X_query[:, None, :] - X_train[None, :, :]) ** 2).sum(axis=2)
            nearest = np.argsort(d2, axis=1, kind="stable")[:, :k]
            labels = np.asarray(y_train)[nearest]
            return np.array([np.bincount(row).argmax() for row in labels])
            ### END SOLUTION
        """, wrong="""
        def knn_predict(X_train, y_train, X_query, k):
            X_train, X_query = np.asarray(X_train, float), np.asarray(X_query, float)
            d = np.abs(X_query[:, None, :] - X_train[None, :, :]).sum(axis=2)
            nearest = np.argsort(d, axis=1)[:, 1:k + 1]   # skips the nearest point (only right when the query is in the training set)
            labels = np.asarray(y_train)[nearest]
            return np.array([np.bincount(row).argmax() for row in labels])
        """),
    test("test_knn", 3, """
        Xt = np.array([[0.0, 0.0], [0.0, 1.0], [5.0, 5.0], [6.0, 5.0], [5.0, 6.0]])
        yt = np.array([0, 0, 1, 1, 1])
        pred = knn_predict(Xt, yt, np.array([[0.2, 0.4], [5.5, 5.5]]), k=1)
        assert list(pred) == [0, 1], f"expected [0, 1], got {list(pred)}"
        ### BEGIN HIDDEN TESTS
        assert list(knn_predict(Xt, yt, np.array([[0.1, 0.1], [3.5, 3.5]]), k=3)) == [0, 1]
        assert list(knn_predict(Xt, yt, np.array([[0.0, 0.5]]), k=2)) == [0]
        sk = KNeighborsClassifier(n_neighbors=5, algorithm="brute").fit(Xw_train, yw_train).predict(Xw_test)
        mine = knn_predict(Xw_train, yw_train, Xw_test, k=5)
        assert np.mean(sk == mine) >= 0.98, "should agree with scikit-learn's KNN"
        ### END HIDDEN TESTS
        """, needs=["knn"]),
    md("task3_md", """
        ## Task 3 — scaling (2 points)

        Set `acc_raw` to the test accuracy of `KNeighborsClassifier(n_neighbors=5)` fitted on the raw
        wine features, and `acc_scaled` to that of the same classifier behind a `StandardScaler`
        (a pipeline, so the scaler learns its means and standard deviations **from the training set
        only**).
        """),
    solution("scaling", """
        ### BEGIN SOLUTION
        acc_raw = KNeighborsClassifier(n_neighbors=5).fit(Xw_train, yw_train).score(Xw_test, yw_test)
        scaled = make_pipeline(StandardScaler(), KNeighborsClassifier(n_neighbors=5)).fit(Xw_train, yw_train)
        acc_scaled = scaled.score(Xw_test, yw_test)
        ### END SOLUTION
        print(f"raw {acc_raw:.3f}   scaled {acc_scaled:.3f}")
        print("feature ranges:", np.round(X_wine.max(0) - X_wine.min(0), 1))
        """, wrong="""
        scaler = StandardScaler().fit(X_wine)   # leaks: fitted on all rows, test set included
        acc_raw = KNeighborsClassifier(n_neighbors=5).fit(scaler.transform(Xw_train), yw_train).score(scaler.transform(Xw_test), yw_test)
        acc_scaled = acc_raw + 0.2
        print(f"raw {acc_raw:.3f}   scaled {acc_scaled:.3f}")
        """),
    test("test_scaling", 2, """
        assert 0 <= acc_raw <= 1 and 0 <= acc_scaled <= 1
        assert acc_scaled > acc_raw, "scaling should help KNN on wine"
        ### BEGIN HIDDEN TESTS
        assert np.isclose(acc_raw, KNeighborsClassifier(n_neighbors=5).fit(Xw_train, yw_train).score(Xw_test, yw_test))
        ref = make_pipeline(StandardScaler(), KNeighborsClassifier(n_neighbors=5)).fit(Xw_train, yw_train)
        assert np.isclose(acc_scaled, ref.score(Xw_test, yw_test))
        ### END HIDDEN TESTS
        """, needs=["scaling"]),
    md("q1_md", """
        ## Question (2 points, graded by hand)

        Look at the feature ranges printed above. In three or four sentences: **why does scaling change
        KNN's accuracy** so much on this data, and why would it hardly change the accuracy of a decision
        tree (결정 트리)?
        """),
    prose("q1_scaling", 2, """
        KNN decides by Euclidean distance, and a distance is dominated by the features with the largest
        numbers: proline ranges over about 1400 units, most other wine features over less than 5, so the
        "nearest" wines are simply those with similar proline and the other twelve measurements barely
        count. Standardising puts every feature on mean 0 / std 1, so each contributes comparably and the
        informative small-range features (flavanoids, colour intensity, hue) can be used. A decision tree
        splits one feature at a time on a threshold; rescaling a feature moves the threshold with it but
        does not change which rows go left or right, so the tree is (almost) unchanged.
        """),
    checklist(),
]

HALF = {"fill": ["inertias", "best_k", "knn"], "wrong": ["knn"]}
