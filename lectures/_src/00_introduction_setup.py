# ---
# jupyter:
#   coursebench:
#     summary: "AI / ML / DL, the cloud (IaaS/PaaS/SaaS), containers vs VMs, this course's Docker images and JupyterLab, checking for a GPU."
# ---

# %% [markdown]
# # 00 · Introduction and setup
# What AI, machine learning and deep learning are, what the cloud gives you, how containers and this course's Docker images work, and how to check your machine for a GPU.
#
# **What you will learn**
#
# - how artificial intelligence (인공지능), machine learning (머신러닝, 기계학습) and deep learning (딥러닝) relate, and how "learning rules from data" differs from writing rules by hand;
# - the three kinds of cloud service (클라우드 서비스) — IaaS, PaaS, SaaS — and why deep learning so often runs in the cloud;
# - what a virtual machine (가상 머신) and a container (컨테이너) are, and how an image (이미지) becomes a container;
# - how this course's Docker images and JupyterLab fit together, and what a papermill *parameters* cell is;
# - how to check which Python, which libraries and which GPU your notebook is really using, and how fast your CPU multiplies matrices.

# %% [markdown]
# Every lecture starts with the same **setup cell**. It checks that the libraries are new enough (and tells you how to fix it if not), fixes the random seeds so that you get the same numbers as your classmates, and sets a clean plot style. Its output is your first diagnostic: if something behaves differently on your machine, compare this table first.

# %%
from coursebench.notebook import setup
from coursebench import datasets

info = setup()
info

# %% [markdown]
# The next cell holds the notebook's **parameters**. When the course's CI runs every notebook to check that it still works, it sets `smoke = True` and the notebook uses small sizes so that it finishes in seconds. Leave it `False` when you study: you get the full results the text talks about.

# %% tags=["parameters"]
smoke = False          # True: a quick check on small sizes (used by CI)
matrix_sizes = [128, 256, 512, 1024, 1536]   # for the CPU speed test in section 5
check_tensorflow = True  # also ask TensorFlow which GPUs it sees (importing it takes a few seconds)

# %%
if smoke:
    matrix_sizes = [64, 128, 256]
    check_tensorflow = False

import os
import platform
import shutil
import sys
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

# %% [markdown]
# ## 1. AI, machine learning, deep learning
#
# - **Artificial intelligence (인공지능, AI)** is the broad goal: programs that do things we would call intelligent — play Go, translate, drive, diagnose.
# - **Machine learning (머신러닝 / 기계학습, ML)** is the part of AI where the program *learns its behaviour from data (데이터)* instead of being told rules.
# - **Deep learning (딥러닝, DL)** is the part of machine learning that uses *deep neural networks (심층 신경망)*: many layers of simple units, trained on large data sets — the technology behind speech recognition, image recognition and chatbots like ChatGPT.
#
# Each is inside the one before it:

# %%
fig, ax = plt.subplots(figsize=(5.5, 4))
for radius, label, color, y in [(3.0, "Artificial\nintelligence", "#cfe2f3", 2.1),
                                (2.0, "Machine\nlearning", "#9fc5e8", 0.9),
                                (1.0, "Deep\nlearning", "#3d85c6", -0.6)]:
    ax.add_patch(plt.Circle((0, radius - 3.0), radius, color=color, ec="k"))
    ax.text(0, y - 0.6, label, ha="center", va="center", fontsize=10,
            color="white" if radius == 1.0 else "black")
ax.set_xlim(-3.2, 3.2); ax.set_ylim(-6.2, 0.2); ax.set_aspect("equal"); ax.axis("off")
ax.set_title("AI ⊃ ML ⊃ DL")
plt.show()

# %% [markdown]
# ### Rules by hand vs rules learned from data
#
# In *traditional programming* a person writes the rules: **rules + data → answers**. In *machine learning* we give the computer examples with the right answers and it finds the rules: **data + answers → rules (a model, 모델)**.
#
# Let us see both on a small real data set: 150 iris flowers, four measurements each, three species. First a rule a botanist might write after looking at a few flowers.

# %%
iris = datasets.load("iris")
print(iris.message)
X_train, X_test, y_train, y_test = iris.split(test_size=0.3, seed=0)
print("features:", iris.feature_names)
print("classes: ", iris.target_names)


def hand_written_rule(x):
    """Petal length decides: short → setosa, medium → versicolor, long → virginica."""
    petal_length = x[2]
    if petal_length < 2.5:
        return 0
    return 1 if petal_length < 5.0 else 2


rule_pred = np.array([hand_written_rule(x) for x in X_test])
rule_acc = (rule_pred == y_test).mean()
print(f"hand-written rule: accuracy {rule_acc:.3f} on {len(y_test)} test flowers")

# %% [markdown]
# Now let a learning algorithm find its own rules from the training flowers. A *decision tree (결정 트리)* learns a sequence of yes/no questions — the same kind of rule we wrote, but with thresholds chosen from data. (Lecture 05 covers trees properly.)

# %%
from sklearn.tree import DecisionTreeClassifier, export_text

tree = DecisionTreeClassifier(max_depth=2, random_state=0).fit(X_train, y_train)
tree_acc = tree.score(X_test, y_test)
print(export_text(tree, feature_names=iris.feature_names))
print(f"learned rule: accuracy {tree_acc:.3f}")

# %% [markdown]
# The learned tree asks almost the same questions we did — but it picked the thresholds by looking at every training flower, so it does at least as well. On data with hundreds of features (pixels of an image, words of a text) nobody can write the rules by hand any more; that is where machine learning, and for images and sound deep learning, takes over. On this split the learned rule reaches **at least 90% test accuracy**.

# %%
if not smoke:
    assert tree_acc >= 0.90, tree_acc
    assert tree_acc >= rule_acc - 0.05

# %% [markdown]
# ## 2. The cloud (클라우드)
#
# *Cloud computing* means using computers, storage and software that someone else runs, over the internet, and paying for what you use. Deep learning needs a lot of computation and data — more than a laptop has — so it is usually trained in the cloud. Cloud services come in three kinds, according to how much the provider manages for you:
#
# | kind | you get | you manage | examples |
# |---|---|---|---|
# | **IaaS** — Infrastructure as a Service (서비스형 인프라) | virtual servers, disks, networks | the OS and everything on it | AWS EC2, Google Compute Engine, Azure VMs, KT Cloud servers |
# | **PaaS** — Platform as a Service (서비스형 플랫폼) | a platform to run your code: runtime, database, deployment | your application and data | Google App Engine, Heroku, AWS SageMaker, Cloud Foundry |
# | **SaaS** — Software as a Service (서비스형 소프트웨어) | finished software in the browser | only your data and settings | Gmail, Office 365, Google Drive, ChatGPT |
#
# The figure shows the layers of a computing stack and who looks after each one.

# %%
layers = ["Networking", "Storage", "Servers", "Virtualisation", "Operating system",
          "Middleware", "Runtime", "Data", "Application"]
provider_from = {"On-premises": 0, "IaaS": 4, "PaaS": 7, "SaaS": 9}  # layers below this index: provider

fig, ax = plt.subplots(figsize=(8, 4.2))
for col, (model, cut) in enumerate(provider_from.items()):
    for row, layer in enumerate(layers):
        yours = row >= cut
        ax.add_patch(plt.Rectangle((col * 2.1, row), 2.0, 0.92, color="#f6b26b" if yours else "#6fa8dc"))
        ax.text(col * 2.1 + 1.0, row + 0.46, layer, ha="center", va="center", fontsize=7.5)
    ax.text(col * 2.1 + 1.0, len(layers) + 0.3, model, ha="center", va="bottom", fontsize=9, fontweight="bold")
ax.set_xlim(-0.1, 8.4); ax.set_ylim(0, len(layers) + 1.4); ax.axis("off")
ax.legend(handles=[plt.Rectangle((0, 0), 1, 1, color="#f6b26b"), plt.Rectangle((0, 0), 1, 1, color="#6fa8dc")],
          labels=["you manage", "the provider manages"], loc="lower center", bbox_to_anchor=(0.5, -0.12), ncol=2)
ax.set_title("Who manages what")
plt.show()

# %% [markdown]
# ## 3. Virtual machines and containers
#
# A cloud provider shares big physical servers among many customers. Two technologies make that safe:
#
# - A **virtual machine (가상 머신, VM)** is a whole computer simulated in software. A *hypervisor (하이퍼바이저)* runs several VMs on one server; each VM boots its own operating system (a *guest OS*). Strong isolation, but each VM carries a full OS: gigabytes of disk, a minute to boot.
# - A **container (컨테이너)** is just an isolated group of processes on the host's own kernel: it gets its own view of the file system, the process list and the network, but no OS of its own. Megabytes, starts in a fraction of a second.
#
# An **image (이미지)** is the read-only template — files and settings — and a **container is a running instance of an image**, as an object is an instance of a class. **Docker (도커)** is the tool that builds images from a recipe (a `Dockerfile`) and runs containers from them. Because the image holds everything the program needs, it runs the same on your laptop, the lab server, AWS, Azure or Google Cloud.

# %%
fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
stacks = {
    "Virtual machines": ["Hardware", "Host OS / hypervisor", "Guest OS | Guest OS | Guest OS",
                         "Libraries | Libraries | Libraries", "App A | App B | App C"],
    "Containers": ["Hardware", "Host OS (one shared kernel)", "Container engine (Docker)",
                   "Libraries | Libraries | Libraries", "App A | App B | App C"],
}
colors = ["#999999", "#b4a7d6", "#6fa8dc", "#93c47d", "#f6b26b"]
for ax, (title, stack) in zip(axes, stacks.items()):
    for i, (text, color) in enumerate(zip(stack, colors)):
        ax.add_patch(plt.Rectangle((0, i), 6, 0.9, color=color))
        ax.text(3, i + 0.45, text, ha="center", va="center", fontsize=8.5)
    ax.set_xlim(0, 6); ax.set_ylim(0, len(stack)); ax.axis("off"); ax.set_title(title)
plt.show()


# %% [markdown]
# Are *we* in a container or a sandbox right now? Linux leaves a few traces we can look for.

# %%
def environment_traces():
    traces = {
        "python": sys.executable,
        "working directory": os.getcwd(),
        "Docker (/.dockerenv)": Path("/.dockerenv").exists(),
        "coursebench sandbox": os.environ.get("COURSEBENCH_SANDBOX") == "1",
        "kernel": platform.release(),
        "CPU cores visible": os.cpu_count(),
    }
    cgroup = Path("/proc/1/cgroup")
    if cgroup.exists():
        text = cgroup.read_text()
        traces["container runtime in /proc/1/cgroup"] = any(k in text for k in ("docker", "containerd", "kubepods"))
    return traces


for key, value in environment_traces().items():
    print(f"{key:40s} {value}")

# %% [markdown]
# ## 4. This course's Docker images and JupyterLab
#
# The course ships one `Dockerfile` (`docker/Dockerfile`) with three targets:
#
# | image | what it has | used for |
# |---|---|---|
# | `coursebench-runtime` | Python 3.11, NumPy, pandas, scikit-learn, matplotlib, papermill | running and autograding submitted notebooks, in a sandbox with no network |
# | `coursebench-lab` | runtime + TensorFlow (CPU) + Keras + JupyterLab + nbgrader | what you work in during the course |
# | `coursebench-gpu` | the same on NVIDIA CUDA with TensorFlow's GPU build | training on a GPU machine in the cloud |
#
# To work in the lab image on your own computer (with Docker installed), from the course folder:
#
# ```bash
# make images                                   # or: python -m coursebench.images build lab
# docker run --rm -p 8888:8888 -v "$PWD":/course coursebench-lab
# # open the http://127.0.0.1:8888/lab?token=... address it prints
# ```
#
# On a cloud VM with an NVIDIA GPU (IaaS!), the GPU image sees the GPU when you ask Docker to pass it in:
#
# ```bash
# docker run --rm --gpus all -p 8888:8888 -v "$PWD":/course coursebench-gpu jupyter lab --ip=0.0.0.0
# ```
#
# `-v "$PWD":/course` mounts your folder into the container, so your notebooks survive when the container is removed (`--rm`); `-p 8888:8888` forwards JupyterLab's port.
#
# **JupyterLab** is the browser interface; the code runs in a **kernel (커널)**, a Python process that keeps your variables between cells. Two habits save a lot of confusion:
#
# - *Kernel → Restart Kernel and Run All Cells* before you hand in: it proves the notebook runs top to bottom, which is exactly what the autograder does.
# - Cells run in the order you click them, not the order on the page. The number `[5]` beside a cell tells you when it ran.
#
# The autograder and the course's CI run notebooks with **papermill**: it opens the notebook, finds the cell tagged `parameters`, inserts a cell after it that overrides the values (here `smoke = True`), and runs everything. That is why every lecture keeps its sizes in that one cell.
#
# IPython also has *magic commands*: `%timeit` times a line, `%pip install ...` installs a package into the running kernel's environment, `!ls` runs a shell command.

# %%
# # %timeit in a script-friendly form: the best of several runs of a small computation
import timeit

loop = min(timeit.repeat("sum(i * i for i in range(10_000))", number=20, repeat=3)) / 20
vec = min(timeit.repeat("(a * a).sum()", setup="import numpy as np; a = np.arange(10_000)", number=20, repeat=3)) / 20
print(f"Python loop: {loop * 1e6:8.1f} µs   NumPy: {vec * 1e6:8.1f} µs   → NumPy is {loop / vec:.0f}× faster")

# %% [markdown]
# (Lecture 01 explains why the NumPy version is so much faster: the loop runs in compiled code, not in Python.)
#
# ## 5. Checking for a GPU
#
# Deep learning trains on **GPUs (그래픽 처리 장치)** because they do thousands of multiply-adds in parallel. Whether your notebook can use one depends on three things: the machine has one, the driver is installed, and the container was started with access to it (`--gpus all`). The setup cell already looked:

# %%
print("GPUs visible to this notebook:", info.gpus or "none")
smi = shutil.which("nvidia-smi")
if smi:
    import subprocess
    print(subprocess.run([smi, "--query-gpu=name,memory.total,driver_version", "--format=csv"],
                         capture_output=True, text=True).stdout)
else:
    print("nvidia-smi is not installed here: no NVIDIA driver, so training runs on the CPU.")

# %% [markdown]
# TensorFlow has its own view — what matters for Keras is what *it* sees. (Importing TensorFlow takes a few seconds, so the quick CI run skips this.)

# %%
import importlib.util

if check_tensorflow and importlib.util.find_spec("tensorflow") is not None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf
    print("TensorFlow", tf.__version__, "sees:", tf.config.list_physical_devices())
else:
    print("TensorFlow check skipped (smoke run, or TensorFlow not installed in this image).")


# %% [markdown]
# ### How fast is this CPU?
#
# The work in neural networks is mostly matrix multiplication. Multiplying two n×n matrices takes about 2n³ floating-point operations (FLOPs), so timing it tells us how many GFLOP/s (billions of operations per second) this machine delivers.

# %%
def gflops(n, dtype=np.float32, repeat=3):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n)).astype(dtype)
    b = rng.standard_normal((n, n)).astype(dtype)
    best = min(timeit.repeat(lambda: a @ b, number=1, repeat=repeat))
    return 2 * n**3 / best / 1e9


speeds = {dtype.__name__: [gflops(n, dtype) for n in matrix_sizes] for dtype in (np.float32, np.float64)}
fig, ax = plt.subplots()
for name, values in speeds.items():
    ax.plot(matrix_sizes, values, marker="o", label=name)
ax.set_xlabel("matrix size n"); ax.set_ylabel("GFLOP/s"); ax.set_title("Matrix multiplication speed on this CPU")
ax.legend()
plt.show()
best_cpu = max(max(v) for v in speeds.values())
print(f"best: {best_cpu:.1f} GFLOP/s")

# %% [markdown]
# Small matrices are slow (overhead dominates); large ones reach the CPU's real speed, and `float32` is usually about twice as fast as `float64` because twice as many numbers fit in each vector instruction — one reason deep learning uses 32-bit (or smaller) numbers.
#
# Now a back-of-the-envelope estimate: one epoch of training a ResNet-50 image model on ImageNet (1.28 million images, about 4 GFLOPs per image forward, roughly 3× that with the backward pass) at the speed we just measured, compared with a data-centre GPU that delivers, say, 100 TFLOP/s in practice:

# %%
epoch_flops = 1.28e6 * 4e9 * 3
cpu_hours = epoch_flops / (best_cpu * 1e9) / 3600
gpu_hours = epoch_flops / 100e12 / 3600
print(f"one epoch on this CPU: {cpu_hours:,.0f} hours ({cpu_hours / 24:,.1f} days)")
print(f"one epoch on a GPU:    {gpu_hours * 60:,.1f} minutes")
if not smoke:
    assert best_cpu > 1.0, "a modern CPU multiplies matrices at more than 1 GFLOP/s"
    assert cpu_hours > 10 * gpu_hours


# %% [markdown]
# That gap — days against minutes — is why deep learning lives on GPUs, and why renting one by the hour from a cloud (IaaS) is how most students and companies get one. In this course the models are small enough for a CPU; lectures 09–12 tell you when a GPU would help.
#
# ## Summary
#
# - AI ⊃ machine learning ⊃ deep learning; ML learns rules from data and answers.
# - IaaS gives you machines, PaaS a platform, SaaS finished software.
# - A VM simulates a whole computer; a container isolates processes on a shared kernel; an image is the template a container runs from.
# - The course's `lab` image is your JupyterLab; the `runtime` image grades your notebooks; the `gpu` image runs on cloud GPUs.
# - Check what you are running on: the setup cell's table, `nvidia-smi`, and `tf.config.list_physical_devices()`.
#
# ## Exercises
#
# 1. Classify each service as IaaS, PaaS or SaaS: (a) Google Colab, (b) an AWS EC2 instance with a GPU, (c) Google App Engine, (d) Naver Mail.
# 2. Write the `docker run` command that starts the lab image with your folder `~/dl-course` mounted at `/course` and JupyterLab on port 9999 of your machine.
# 3. Improve `hand_written_rule` using petal **width** too. Can you beat the learned tree on the test set? Why is choosing rules by looking at the *test* flowers cheating?
# 4. Write a function `efficiency(n)` that returns the float32/float64 speed ratio for an n×n multiplication, and compute it for n = 512 and n = 1024.

# %% [markdown]
# ## Solutions

# %% [markdown]
# **1.** (a) Colab is a hosted notebook service: you bring only code and data — SaaS (some call it PaaS, since you program on it). (b) EC2 gives you a virtual machine: IaaS. (c) App Engine runs your application on its platform: PaaS. (d) Webmail: SaaS.
#
# **2.** `docker run --rm -p 9999:8888 -v ~/dl-course:/course coursebench-lab` — the left side of `-p` is your machine's port, the right side the container's.

# %%
# 3. Petal width separates versicolor and virginica a little better than length alone.
def better_rule(x):
    if x[2] < 2.5:
        return 0
    return 1 if x[3] < 1.75 else 2


train_acc = np.mean([better_rule(x) == y for x, y in zip(X_train, y_train)])
test_acc = np.mean([better_rule(x) == y for x, y in zip(X_test, y_test)])
print(f"better rule: train {train_acc:.3f}, test {test_acc:.3f} (tree: {tree_acc:.3f})")
# Thresholds chosen by looking at the test flowers would be fitted to them: the test
# accuracy would no longer tell us how the rule does on flowers it has never seen.

# %%
# 4.
def efficiency(n):
    return gflops(n, np.float32) / gflops(n, np.float64)


for n in matrix_sizes[-2:]:
    print(f"n={n}: float32 is {efficiency(n):.1f}× as fast as float64")
