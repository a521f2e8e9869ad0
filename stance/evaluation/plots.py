"""Plots for the report and the lessons (matplotlib, drawn off-screen to PNG files)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

from stance.labels import LABELS


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: Path) -> Path:
    """Lay out, write the PNG, and free the figure (pyplot keeps every open figure alive)."""
    if not fig.get_layout_engine():
        fig.tight_layout()
    fig.savefig(path, dpi=110)
    _plt().close(fig)
    return Path(path)


def confusion_matrices(confusions: dict[str, list[list[int]]], path: Path, title: str = "") -> Path:
    """Side-by-side confusion matrices (rows: true label, columns: predicted); cells print counts,
    colour shows the share of each true label (row-normalised), with a colour bar."""
    import numpy as np

    plt = _plt()
    n = len(confusions)
    fig, axes = plt.subplots(1, n, figsize=(4.2 * n, 4), squeeze=False)
    for ax, (name, counts) in zip(axes[0], confusions.items()):
        cm = np.asarray(counts)
        image = ax.imshow(cm / cm.sum(axis=1, keepdims=True).clip(min=1), cmap="Blues", vmin=0, vmax=1)
        for i in range(len(LABELS)):
            for j in range(len(LABELS)):
                ax.text(j, i, f"{cm[i, j]:g}", ha="center", va="center", fontsize=8)
        ax.set_xticks(range(len(LABELS)), LABELS, rotation=45, ha="right", fontsize=8)
        ax.set_yticks(range(len(LABELS)), LABELS, fontsize=8)
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("predicted")
    axes[0][0].set_ylabel("true")
    fig.colorbar(image, ax=axes[0].tolist(), shrink=0.8, label="share of the true label")
    if title:
        fig.suptitle(title)
    return _save(fig, path)


def per_label_f1(f1: dict[str, dict[str, float]], path: Path, title: str = "",
                 ci95: Mapping[str, Mapping[str, Sequence[float]]] | None = None) -> Path:
    """Grouped bars: per-label F1 for each model, with 95% bootstrap intervals as error bars where given."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(8, 3.6))
    width = 0.8 / max(1, len(f1))
    for k, (name, scores) in enumerate(f1.items()):
        ci = (ci95 or {}).get(name)
        yerr = None if not ci else [[max(0.0, scores[l] - ci[l][0]) for l in LABELS],
                                    [max(0.0, ci[l][1] - scores[l]) for l in LABELS]]
        ax.bar([i + k * width for i in range(len(LABELS))], [scores[l] for l in LABELS], width, label=name,
               yerr=yerr, capsize=2, error_kw={"elinewidth": 0.8})
    ax.set_xticks([i + 0.4 - width / 2 for i in range(len(LABELS))], LABELS)
    ax.set_ylim(0, 1)
    ax.set_ylabel("F1")
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title, fontsize=10)
    return _save(fig, path)


def label_distribution(counts: dict[str, dict[str, int]], path: Path) -> Path:
    """Stacked bars: sentences per label in each corpus part."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 3.4))
    bottom = [0] * len(LABELS)
    for part, c in counts.items():
        vals = [c.get(l, 0) for l in LABELS]
        ax.bar(LABELS, vals, bottom=bottom, label=part)
        bottom = [b + v for b, v in zip(bottom, vals)]
    ax.set_ylabel("sentences")
    ax.legend(fontsize=8)
    return _save(fig, path)


def learning_curve(curves: Mapping[str, Mapping[int, Sequence[float]]], path: Path,
                   xlabel: str = "labelled training sentences", title: str = "") -> Path:
    """Macro-F1 (mean and range over folds/seeds/draws) against the number of training sentences (or writers)."""
    import numpy as np

    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for name, points in curves.items():
        xs = sorted(points)
        mean = [float(np.mean(points[x])) for x in xs]
        ax.plot(xs, mean, marker="o", label=name)
        ax.fill_between(xs, [min(points[x]) for x in xs], [max(points[x]) for x in xs], alpha=0.15)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("macro-F1")
    ax.set_ylim(0, 1)
    if title:
        ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, path)
