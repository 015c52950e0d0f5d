"""A small L2-regularised logistic regression (numpy only), and its out-of-fold predictions.

Fitted by gradient descent on standardised features; the weights it returns apply to the raw
features, so a fitted model is three plain numbers per feature in a JSON file.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Logistic:
    weights: np.ndarray
    bias: float

    def probability(self, x: np.ndarray) -> np.ndarray:
        """P(y = 1) for each row of ``x``."""
        return np.asarray(1.0 / (1.0 + np.exp(-np.clip(x @ self.weights + self.bias, -50, 50))))


def fit(x: np.ndarray, y: np.ndarray, *, l2: float = 1.0, steps: int = 4000,
        rate: float = 0.5) -> Logistic:
    """Minimise mean log-loss + ``l2``/n · |w|² (the bias is not penalised)."""
    if x.ndim != 2 or len(x) != len(y):
        raise ValueError(f"x is {x.shape}, y has {len(y)} labels")
    mean, std = x.mean(axis=0), x.std(axis=0)
    std[std < 1e-9] = 1.0
    z = (x - mean) / std
    w, b, n = np.zeros(x.shape[1]), 0.0, max(1, len(y))
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-np.clip(z @ w + b, -50, 50)))
        w -= rate * (z.T @ (p - y) / n + l2 * w / n)
        b -= rate * float(np.mean(p - y))
    raw = w / std
    return Logistic(raw, b - float(raw @ mean))


def out_of_fold(x: np.ndarray, y: np.ndarray, *, folds: int = 5, seed: int = 7,
                l2: float = 1.0, steps: int = 4000) -> np.ndarray:
    """Each row's probability from a model fitted without it (``folds``-fold cross-validation);
    what a threshold is chosen on, so that it is not flattered by the fit."""
    order = np.random.default_rng(seed).permutation(len(y))
    out = np.zeros(len(y))
    for k in range(folds):
        test = order[k::folds]
        train = np.setdiff1d(order, test)
        if len(test) and len(train):
            out[test] = fit(x[train], y[train], l2=l2, steps=steps).probability(x[test])
    return out
