"""Line plots (training losses, z-search losses) as PNG, with matplotlib's file backend."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from inpaint_toolkit.core.images import atomic_write


def plot_curves(
    curves: Mapping[str, tuple[Sequence[float], Sequence[float]]],
    path: str | Path,
    *,
    title: str,
    xlabel: str,
    ylabel: str = "loss",
    log_y: bool = False,
) -> Path:
    """One line per ``name: (xs, ys)``; written atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 4), dpi=110)
    for name, (xs, ys) in curves.items():
        axes.plot(xs, ys, label=name, linewidth=1.2)
    axes.set(title=title, xlabel=xlabel, ylabel=ylabel)
    if log_y:
        axes.set_yscale("log")
    axes.grid(alpha=0.3)
    if len(curves) > 1:
        axes.legend()
    figure.tight_layout()
    atomic_write(path, lambda tmp: figure.savefig(tmp, format="png"))
    plt.close(figure)
    return Path(path)
