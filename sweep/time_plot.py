"""Owns the best-so-far-vs-wall-clock picture: the halving sweep's parent-run plot and the
benchmark's comparison of schedulers. Pure: (seconds, value, train fraction) points in, a figure
out; only fits on the whole training split (fraction 1.0) count for the best so far.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)
from matplotlib.figure import Figure  # noqa: E402

Point = tuple[float, float, float]  # seconds since the search started, metric, train fraction
COLORS = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown")


def best_so_far(points: Sequence[Point]) -> list[tuple[float, float]]:
    """Pure: the running best of the fits on fraction 1.0, as (seconds, best) steps in time."""
    steps: list[tuple[float, float]] = []
    for seconds, value, fraction in sorted(points):
        if fraction < 1.0:
            continue
        if not steps or value > steps[-1][1]:
            steps.append((seconds, value))
    return steps


def best_vs_time(curves: Mapping[str, Sequence[Point]], metric: str) -> Figure:
    """One step curve per label (e.g. `plain TPE seed 0`, `halving seed 0`); every fit as a
    faint dot, smaller for a smaller training fraction."""
    fig, ax = plt.subplots(figsize=(8, 4.5), layout="constrained")
    for color, (label, points) in zip(COLORS * 10, curves.items(), strict=False):
        if points:
            ax.scatter(
                [p[0] for p in points],
                [p[1] for p in points],
                s=[8 + 24 * p[2] for p in points],
                color=color,
                alpha=0.3,
                linewidths=0,
            )
        steps = best_so_far(points)
        if steps:
            end = max(p[0] for p in points)
            xs = [s for s, _ in steps] + [end]
            ys = [v for _, v in steps] + [steps[-1][1]]
            ax.step(xs, ys, where="post", color=color, label=f"{label}: {ys[-1]:.4f}")
            ax.plot(xs[:-1], ys[:-1], "o", color=color, markersize=4)  # each new best
    ax.set(
        xlabel="seconds since the search started",
        ylabel=f"validation {metric}",
        title="Best so far (fits on the whole training split) against wall-clock time",
    )
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="lower right")
    return fig
