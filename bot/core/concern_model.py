"""How much each feature weighs in deciding that a post raises a concern, and where.

Two logistic models over the features of :mod:`bot.core.concern_cues`, read
the way a careful reader reads a reply: first *whether* the post raises
anything (``post_weights``: most replies agree, answer or inform), then
*which* of its sentences carry the points (``sentence_weights``). A post
raises concerns when its probability reaches ``post_threshold``; its
strongest sentence is then one point, and any other paragraph or list item
whose best sentence reaches ``point_threshold`` is another.

The weights are not written by hand: ``bench/judgement.py
--fit`` fits them on every labelled thread under ``../shared/corpus/labelled/``
and our own labels, and writes :mod:`bot.core.concern_weights`. The same
harness fits them again with one community left out and scores that community,
for every community in turn, which is how we know the weights carry over to
communities they were not fitted on.

Fitting is plain regularised logistic regression by Newton's method: a few
dozen features and a few thousand sentences need no numerical library.

Pure: no I/O.
"""

from __future__ import annotations

import json
import math
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from bot.core import concern_weights


@dataclass(frozen=True, slots=True)
class ConcernModel:
    sentence_weights: Mapping[str, float] = field(
        default_factory=lambda: dict(concern_weights.SENTENCE_WEIGHTS)
    )
    post_weights: Mapping[str, float] = field(
        default_factory=lambda: dict(concern_weights.POST_WEIGHTS)
    )
    post_threshold: float = concern_weights.POST_THRESHOLD
    point_threshold: float = concern_weights.POINT_THRESHOLD

    def sentence_probability(self, features: Mapping[str, float]) -> float:
        return _sigmoid(_dot(self.sentence_weights, features))

    def post_probability(self, features: Mapping[str, float]) -> float:
        return _sigmoid(_dot(self.post_weights, features))

    def described(self) -> list[object]:
        """Everything that decides what the model reads, as plain values: stored views
        and module evaluations computed with other weights are computed again."""
        return [
            sorted(self.sentence_weights.items()),
            sorted(self.post_weights.items()),
            self.post_threshold,
            self.point_threshold,
        ]


def _dot(weights: Mapping[str, float], features: Mapping[str, float]) -> float:
    return sum(weights.get(name, 0.0) * value for name, value in features.items())


DEFAULT_MODEL = ConcernModel()


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


@dataclass(frozen=True, slots=True)
class Example:
    features: Mapping[str, float]
    positive: bool
    weight: float = 1.0


def fit(
    examples: Sequence[Example],
    *,
    l2: float = 1.0,
    iterations: int = 25,
    balance: bool = True,
) -> dict[str, float]:
    """Weights of an L2-regularised logistic regression, by Newton's method.

    ``balance`` weighs the classes equally (concerns are a few percent of all
    sentences); the threshold is chosen afterwards, on whole concerns. ``l2`` is chosen
    by the leave-one-community-out figures of `make eval`, never in sample, and chosen
    again when the features change: 2.0 on 2026-12-03 (among 0.3 to 10); 1.0 on
    2026-12-05, among 0.25, 0.5, 1, 2, 4 and 8 (pooled left-out recall 0.83 at every
    value to 4, precision 0.76, 0.76, 0.77, 0.74, 0.74, 0.72); kept at 1.0 on 2026-12-06
    after the objection idioms, among 0.5, 1, 2 and 4 (pooled left-out recall / precision
    0.85 / 0.79, 0.85 / 0.79, 0.84 / 0.76, 0.83 / 0.75).
    """
    names = sorted({name for e in examples for name in e.features})
    index = {name: i for i, name in enumerate(names)}
    rows = [([(index[n], v) for n, v in e.features.items() if v], e) for e in examples]
    positives = sum(e.weight for e in examples if e.positive) or 1.0
    negatives = sum(e.weight for e in examples if not e.positive) or 1.0
    total = positives + negatives
    scale = {
        True: total / (2 * positives) if balance else 1.0,
        False: total / (2 * negatives) if balance else 1.0,
    }
    w = [0.0] * len(names)
    for _ in range(iterations):
        gradient = [l2 * wi for wi in w]
        hessian = [[0.0] * len(names) for _ in names]
        for i in range(len(names)):
            hessian[i][i] = l2
        for active, example in rows:
            p = _sigmoid(sum(w[i] * v for i, v in active))
            c = example.weight * scale[example.positive]
            error = (p - (1.0 if example.positive else 0.0)) * c
            curvature = max(p * (1 - p), 1e-6) * c
            for i, vi in active:
                gradient[i] += error * vi
                row = hessian[i]
                for j, vj in active:
                    row[j] += curvature * vi * vj
        step = _solve(hessian, gradient)
        w = [wi - si for wi, si in zip(w, step, strict=True)]
        if max(abs(s) for s in step) < 1e-6:
            break
    return {name: round(w[index[name]], 4) for name in names}


def _solve(matrix: list[list[float]], vector: list[float]) -> list[float]:
    """Gaussian elimination with partial pivoting; the matrix is small and well-conditioned."""
    n = len(vector)
    a = [[*row, vector[i]] for i, row in enumerate(matrix)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(a[r][col]))
        a[col], a[pivot] = a[pivot], a[col]
        if abs(a[col][col]) < 1e-12:
            continue
        for r in range(col + 1, n):
            factor = a[r][col] / a[col][col]
            if factor:
                for c in range(col, n + 1):
                    a[r][c] -= factor * a[col][c]
    solution = [0.0] * n
    for r in range(n - 1, -1, -1):
        if abs(a[r][r]) < 1e-12:
            continue
        solution[r] = (a[r][n] - sum(a[r][c] * solution[c] for c in range(r + 1, n))) / a[r][r]
    return solution


def weights_source(model: ConcernModel, provenance: Iterable[str]) -> str:
    """The text of bot/core/concern_weights.py for this model."""
    lines = ['"""Fitted weights of the concern model: generated, do not edit by hand.', ""]
    lines += [wrapped for line in provenance for wrapped in textwrap.wrap(line, 96)]
    lines += ['"""', ""]
    lines += [f"POST_THRESHOLD = {round(model.post_threshold, 4)!r}"]
    lines += [f"POINT_THRESHOLD = {round(model.point_threshold, 4)!r}", ""]
    for name, weights in (("POST", model.post_weights), ("SENTENCE", model.sentence_weights)):
        lines += [f"{name}_WEIGHTS: dict[str, float] = {{"]
        # Double-quoted keys: the file is written as `ruff format` would write it.
        lines += [f"    {json.dumps(key)}: {value!r}," for key, value in sorted(weights.items())]
        lines += ["}", ""]
    return "\n".join(lines)
