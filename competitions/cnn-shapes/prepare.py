"""Data of the cnn-shapes competition: generated 28×28 grayscale images of outlined shapes
(circle, square, triangle, cross), deterministic from ``seed``.

Each image holds one shape at a random position (anywhere in the middle 60% of the
image), size, rotation, stroke width and brightness, on a background with a brightness
gradient, Gaussian pixel noise, a few bright specks and up to two short stray strokes.
Because the shape moves around, a given pixel means different things in different
images: a model that looks for local patterns wherever they are (a CNN) does clearly
better than one that weighs each pixel separately (an MLP).

The competition core reads CSV, so the pixels are flattened row by row into the columns
``p0`` … ``p783`` (0–255; pixel (row r, column c) is ``p{28*r + c}``).  The generator is
self-contained (numpy only) so the published data never changes under the course's
library.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SIZE = 28
N_TRAIN = 6_000
N_TEST = 3_000
CLASSES = ("circle", "square", "triangle", "cross")


def _segment_distance(px: np.ndarray, py: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distance of every grid point to the segment a–b."""
    dx, dy = b[0] - a[0], b[1] - a[1]
    t = ((px - a[0]) * dx + (py - a[1]) * dy) / max(dx * dx + dy * dy, 1e-9)
    t = np.clip(t, 0.0, 1.0)
    return np.hypot(px - (a[0] + t * dx), py - (a[1] + t * dy))


def _polygon_distance(px: np.ndarray, py: np.ndarray, vertices: np.ndarray) -> np.ndarray:
    closed = np.vstack([vertices, vertices[:1]])
    return np.min([_segment_distance(px, py, closed[i], closed[i + 1]) for i in range(len(vertices))], axis=0)


def _regular(cx: float, cy: float, radius: float, angle: float, corners: int) -> np.ndarray:
    theta = angle + 2 * np.pi * np.arange(corners) / corners
    return np.stack([cx + radius * np.cos(theta), cy + radius * np.sin(theta)], axis=1)


def _shape_distance(kind: str, px: np.ndarray, py: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Distance of every pixel centre to the outline of one randomly placed shape."""
    cx, cy = rng.uniform(0.3 * SIZE, 0.7 * SIZE, 2)
    radius = rng.uniform(3.5, 8.5)
    angle = rng.uniform(0.0, 2 * np.pi)
    if kind == "circle":
        return np.abs(np.hypot(px - cx, py - cy) - radius)
    if kind == "square":
        return _polygon_distance(px, py, _regular(cx, cy, radius * 1.05, angle, 4))
    if kind == "triangle":
        return _polygon_distance(px, py, _regular(cx, cy, radius * 1.15, angle, 3))
    arms = _regular(cx, cy, radius, angle, 4)  # a cross: two strokes through the centre
    return np.minimum(_segment_distance(px, py, arms[0], arms[2]), _segment_distance(px, py, arms[1], arms[3]))


def make_images(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``(X [n, 28, 28] uint8, y [n] class index)``; the classes are balanced."""
    labels = np.resize(np.arange(len(CLASSES)), n)
    rng.shuffle(labels)
    py, px = np.mgrid[0:SIZE, 0:SIZE].astype(float) + 0.5
    images = np.empty((n, SIZE, SIZE), dtype=np.uint8)
    for i, label in enumerate(labels):
        width = rng.uniform(0.8, 2.0)
        d = _shape_distance(CLASSES[label], px, py, rng)
        img = rng.uniform(0.4, 1.0) * np.clip(width / 2 + 0.5 - d, 0.0, 1.0)  # anti-aliased stroke
        for _ in range(rng.choice(3, p=[0.3, 0.4, 0.3])):  # short stray strokes
            a = rng.uniform(0, SIZE, 2)
            direction = rng.uniform(0, np.pi)
            b = a + rng.uniform(2.0, 5.0) * np.array([np.cos(direction), np.sin(direction)])
            img = np.maximum(img, rng.uniform(0.3, 0.7) * np.clip(1.0 - _segment_distance(px, py, a, b), 0.0, 1.0))
        gx, gy = rng.uniform(-0.006, 0.006, 2)
        img = img + 0.08 + gx * (px - SIZE / 2) + gy * (py - SIZE / 2)  # uneven lighting
        img = img + rng.normal(0.0, 0.14, img.shape)
        specks = rng.integers(0, 4)
        img[rng.integers(0, SIZE, specks), rng.integers(0, SIZE, specks)] += rng.uniform(0.4, 0.9, specks)
        images[i] = np.round(np.clip(img, 0.0, 1.0) * 255).astype(np.uint8)
    return images, labels


def make_data(seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng([seed, 28])
    n = N_TRAIN + N_TEST
    images, labels = make_images(n, rng)
    frame = pd.DataFrame(images.reshape(n, SIZE * SIZE), columns=[f"p{i}" for i in range(SIZE * SIZE)])
    frame.insert(0, "id", 10_000 + rng.permutation(n))
    frame["shape"] = np.asarray(CLASSES)[labels]
    train = frame.iloc[:N_TRAIN].sort_values("id").reset_index(drop=True)
    test = frame.iloc[N_TRAIN:].sort_values("id").reset_index(drop=True)
    return train, test
