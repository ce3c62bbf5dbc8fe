# ---
# jupyter:
#   coursebench:
#     summary: "The language, NumPy arrays and vectorisation, pandas tables, matplotlib figures."
# ---

# %% [markdown]
# # 01 · Python basics for data work
# The parts of Python, NumPy, pandas and matplotlib that the rest of the course uses every week.
#
# **What you will learn**
#
# - the Python you need for data work: lists, dictionaries, comprehensions, functions, f-strings;
# - NumPy arrays (배열): shape, dtype, vectorisation (벡터화), broadcasting (브로드캐스팅), boolean indexing, reductions along an axis;
# - pandas DataFrames (데이터프레임): loading, selecting, filtering, grouping, missing values (결측치);
# - matplotlib figures with the `fig, ax` interface: line, scatter, histogram, several panels.

# %%
from coursebench.notebook import setup
from coursebench import datasets

info = setup()
info

# %% tags=["parameters"]
smoke = False
n_timing = 1_000_000   # length of the vectors in the speed comparison

# %%
if smoke:
    n_timing = 20_000

import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

# %% [markdown]
# ## 1. The Python you need
#
# A **list** holds items in order; a **dictionary (딕셔너리)** maps keys to values. A **list comprehension** builds a list from another in one readable line.

# %%
scores = [72, 88, 95, 61, 79]
students = {"kim": 88, "lee": 95, "park": 61}

passed = [s for s in scores if s >= 70]
curved = {name: min(100, s + 5) for name, s in students.items()}
print(f"{len(passed)} of {len(scores)} passed; mean {sum(scores) / len(scores):.1f}")
print("curved:", curved)
print("best student:", max(students, key=students.get))


# %% [markdown]
# **Functions** take arguments (with defaults) and return values; a docstring says what they do. Keyword arguments make calls readable.

# %%
def standardise(values, *, ddof=0):
    """Return (x - mean) / std for each value: how many standard deviations from the mean."""
    n = len(values)
    mean = sum(values) / n
    std = (sum((v - mean) ** 2 for v in values) / (n - ddof)) ** 0.5
    return [(v - mean) / std for v in values]


z = standardise(scores)
print([f"{v:+.2f}" for v in z])

# %% [markdown]
# Unpacking, `enumerate` and `zip` remove most index bookkeeping:

# %%
for rank, (name, score) in enumerate(sorted(students.items(), key=lambda kv: -kv[1]), start=1):
    print(f"{rank}. {name:5s} {score}")

# %% [markdown]
# ## 2. NumPy: arrays and vectorisation
#
# A NumPy **array** holds many numbers of one **dtype** in one block of memory; operations on it run in compiled code over the whole array at once — **vectorisation (벡터화)**. This is why NumPy is fast, and why every ML library is built on it.

# %%
a = np.array([[1, 2, 3], [4, 5, 6]])
print("shape:", a.shape, " ndim:", a.ndim, " dtype:", a.dtype, " size:", a.size)
print(a * 10)          # element-wise
print(a.T @ a)         # matrix product (3×2 @ 2×3 → 3×3)
print(a.sum(axis=0), a.sum(axis=1), a.mean())   # axis=0: down the columns; axis=1: along rows

# %% [markdown]
# How much faster is a vectorised computation than a Python loop? Let us compute the mean squared difference of two long vectors both ways.

# %%
rng = np.random.default_rng(0)        # a seeded random generator: reproducible numbers
x = rng.standard_normal(n_timing)
y = rng.standard_normal(n_timing)

start = time.perf_counter()
total = 0.0
for xi, yi in zip(x.tolist(), y.tolist()):
    total += (xi - yi) ** 2
loop_result = total / n_timing
loop_time = time.perf_counter() - start

start = time.perf_counter()
vector_result = np.mean((x - y) ** 2)
vector_time = time.perf_counter() - start

speedup = loop_time / vector_time
print(f"loop:   {loop_result:.6f} in {loop_time * 1000:8.2f} ms")
print(f"NumPy:  {vector_result:.6f} in {vector_time * 1000:8.2f} ms   → {speedup:.0f}× faster")

# %% [markdown]
# Same answer, and on a million numbers the vectorised version is **well over 10× faster** (typically 30–100×). Rule of thumb for this course: if you write a `for` loop over the rows of an array, look for the NumPy function that does it.

# %%
assert np.isclose(loop_result, vector_result)
if not smoke:
    assert speedup > 10, speedup

# %% [markdown]
# ### Broadcasting and boolean indexing
#
# **Broadcasting (브로드캐스팅)**: when shapes differ, NumPy stretches size-1 dimensions to match. Subtracting the column means from a matrix needs no loop. **Boolean indexing** picks the elements where a condition holds.

# %%
data = rng.normal(loc=[10, 50, 100], scale=[1, 5, 10], size=(6, 3))   # 6 samples, 3 features
centred = data - data.mean(axis=0)          # (6, 3) - (3,) → broadcast over rows
scaled = centred / data.std(axis=0)
print("column means after centring:", centred.mean(axis=0).round(12))
print("column stds after scaling:  ", scaled.std(axis=0))
print("values above 1 std:", scaled[scaled > 1].round(2))

# %% [markdown]
# Scaling every feature to mean 0 and standard deviation 1 is called **standardisation (표준화)**; lecture 04 shows why distance-based models need it.
#
# ## 3. pandas: tables
#
# A **DataFrame** is a table with named columns (each a typed array) and an index. We load the wine data set — 178 wines, 13 chemical measurements, three cultivars — as a DataFrame.

# %%
wine = datasets.load("wine", as_frame=True)
print(wine.message)
df = wine.X.copy()
df["cultivar"] = pd.Categorical.from_codes(wine.y, ["A", "B", "C"])
df.head()

# %%
df.describe().T[["mean", "std", "min", "max"]].head(8)

# %% [markdown]
# Selecting: `df["col"]` is a column (a Series); `df.loc[rows, cols]` selects by label, `df.iloc[...]` by position; a boolean Series filters rows.

# %%
strong = df.loc[df["alcohol"] > 14, ["alcohol", "color_intensity", "cultivar"]]
print(f"{len(strong)} wines above 14% alcohol")
strong.sort_values("alcohol", ascending=False).head()

# %% [markdown]
# **groupby** splits the table by a key, applies a function to each group and combines the results — one line for "the average of each column per cultivar":

# %%
per_cultivar = df.groupby("cultivar", observed=True)[["alcohol", "flavanoids", "color_intensity"]].agg(["mean", "std"])
per_cultivar

# %% [markdown]
# The same numbers with NumPy, to see that nothing magic happens:

# %%
alcohol = df["alcohol"].to_numpy()
manual = [alcohol[wine.y == k].mean() for k in range(3)]
print(np.round(manual, 4), per_cultivar[("alcohol", "mean")].to_numpy().round(4))
assert np.allclose(manual, per_cultivar[("alcohol", "mean")])

# %% [markdown]
# Real data has **missing values (결측치)**. pandas marks them `NaN`; `isna()` counts them, `fillna` / `dropna` deal with them. Filling with the column's median is a common, simple choice (lecture 02 explains why the median must come from the training data only).

# %%
messy = df[["alcohol", "magnesium"]].head(8).copy()
messy.iloc[[1, 4], 0] = np.nan
messy.iloc[6, 1] = np.nan
print("missing per column:\n", messy.isna().sum())
filled = messy.fillna(messy.median())
filled

# %% [markdown]
# ## 4. matplotlib: figures
#
# Always create a figure and axes explicitly — `fig, ax = plt.subplots()` — and draw on the axes. Several panels are one call away.

# %%
fig, axes = plt.subplots(1, 3, figsize=(12, 3.6))

ts = np.linspace(0, 4 * np.pi, 200)
axes[0].plot(ts, np.sin(ts), label="sin")
axes[0].plot(ts, np.cos(ts), "--", label="cos")
axes[0].set_title("line plot"); axes[0].legend()

for code, name in enumerate(["A", "B", "C"]):
    mask = wine.y == code
    axes[1].scatter(df.loc[mask, "alcohol"], df.loc[mask, "color_intensity"], s=14, label=f"cultivar {name}")
axes[1].set_xlabel("alcohol"); axes[1].set_ylabel("colour intensity"); axes[1].set_title("scatter plot")
axes[1].legend()

axes[2].hist(df["flavanoids"], bins=20, color="#2ca02c", edgecolor="white")
axes[2].set_xlabel("flavanoids"); axes[2].set_title("histogram")
fig.tight_layout()
plt.show()

# %% [markdown]
# The scatter plot already shows something important for the coming weeks: with just two measurements the three cultivars are *almost* separable. A model that draws boundaries between them will do well — that is classification, lecture 02.
#
# pandas can plot directly from a DataFrame, which is handy for a quick look:

# %%
ax = df.groupby("cultivar", observed=True)["proline"].mean().plot.bar(rot=0, color=["#1f77b4", "#ff7f0e", "#2ca02c"])
ax.set_ylabel("mean proline"); ax.set_title("proline by cultivar")
plt.show()

# %% [markdown]
# ## Summary
#
# - Comprehensions and small functions keep data code short and readable.
# - NumPy arrays: shape and dtype; vectorise instead of looping; broadcasting; boolean masks; `axis=`.
# - pandas: `loc`/`iloc`, boolean filters, `groupby(...).agg(...)`, `isna`/`fillna`.
# - matplotlib: `fig, ax = plt.subplots(...)`, then draw and label each axis.
#
# ## Exercises
#
# 1. Without a loop, compute for each row of `data` (6×3) the index of its largest *standardised* value.
# 2. Add a column `"ratio"` = `flavanoids / proline` to `df` and find the cultivar with the highest mean ratio.
# 3. Write `minmax(a)` that rescales each column of a 2-D array to [0, 1] using broadcasting; check it on `data`.
# 4. Draw a 2×2 grid of histograms of `alcohol`, `malic_acid`, `ash` and `magnesium`, one colour per cultivar, stacked.

# %% [markdown]
# ## Solutions

# %%
# 1.
print(np.argmax(scaled, axis=1))

# %%
# 2.
df["ratio"] = df["flavanoids"] / df["proline"]
print(df.groupby("cultivar", observed=True)["ratio"].mean().idxmax())


# %%
# 3.
def minmax(a):
    lo, hi = a.min(axis=0), a.max(axis=0)
    return (a - lo) / (hi - lo)


m = minmax(data)
assert np.allclose(m.min(axis=0), 0) and np.allclose(m.max(axis=0), 1)
print(m.round(2))

# %%
# 4.
fig, axes = plt.subplots(2, 2, figsize=(9, 6))
for ax, col in zip(axes.flat, ["alcohol", "malic_acid", "ash", "magnesium"]):
    groups = [df.loc[df["cultivar"] == c, col] for c in ["A", "B", "C"]]
    ax.hist(groups, bins=15, stacked=True, label=["A", "B", "C"])
    ax.set_title(col)
axes[0, 0].legend(title="cultivar")
fig.tight_layout()
plt.show()
