"""The sweep's pictures, logged as PNGs on the parent run. Pure: results in, figures out.

matplotlib's Agg backend draws without a display; figures are closed by whoever logs them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import NullFormatter, ScalarFormatter  # noqa: E402

from sweep import models, tasks  # noqa: E402
from sweep.config import ParamSpec  # noqa: E402
from sweep.params import ENCODING, pinned  # noqa: E402
from sweep.records import Confusion, TrialRecord  # noqa: E402
from sweep.search.space import FAMILY, SearchSpace  # noqa: E402

TOP_FEATURES = 15


def history(trials: Sequence[TrialRecord], metric: str) -> Figure:
    """The metric of each finished trial (at its best point, sweep.curves), in the order they
    ran, and the best so far. Fits on part of the training data (sweep.scheduler=halving) are grey
    dots, outside the best."""
    ok = sorted((t.at_best(metric) for t in trials if t.status == "ok"), key=lambda t: t.number)
    done = [t for t in ok if t.may_win]
    x = [t.number for t in done]
    y = [t.metrics[metric] for t in done]
    fig, ax = plt.subplots(figsize=(8, 4.5), layout="constrained")
    label = "trial"
    if partial := [t for t in ok if not t.may_win]:
        px, py = [t.number for t in partial], [t.metrics[metric] for t in partial]
        ax.scatter(px, py, s=12, color="tab:gray", alpha=0.6, label="on part of the data")
        label = "on all the training data"
    ax.scatter(x, y, s=24, color="tab:blue", label=label, zorder=3)
    best = np.minimum.accumulate(y) if tasks.lower_is_better(metric) else np.maximum.accumulate(y)
    ax.step(x, best, where="post", color="tab:orange", label="best so far")
    ax.set(xlabel="trial", ylabel=f"validation {metric}", title="Optimisation history")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper right" if tasks.lower_is_better(metric) else "lower right")
    return fig


def parameters(trials: Sequence[TrialRecord], metric: str, space: SearchSpace) -> Figure:
    """One panel per searched parameter: its value in each finished trial (of its family)
    against the metric; under model=auto one more for the family, and `forest.max_depth`-style
    titles. Pinned parameters (one value) get no panel, unless nothing else was searched. Each
    trial is drawn at its best point (sweep.curves: the depth that scored best)."""
    done = [t.at_best(metric) for t in trials if t.status == "ok"]
    panels = [
        (f, n, spec)
        for f, entries in space.branches.items()
        for n, spec in entries.items()
        if not pinned(spec)
    ] or [(f, n, spec) for f, entries in space.branches.items() for n, spec in entries.items()]
    if space.nested:
        panels.insert(0, ("", FAMILY, ParamSpec("choice", values=space.families)))
    fig, axes = plt.subplots(
        1, len(panels), figsize=(4 * len(panels), 4), layout="constrained", squeeze=False
    )
    best = tasks.best_value((t.metrics[metric] for t in done), metric)
    for ax, (family, name, spec) in zip(axes[0], panels, strict=True):
        if not family:  # the family choice of model=auto
            ran, values, title = done, [t.family for t in done], FAMILY
        else:
            ran = [t for t in done if t.family == family] if space.nested else done
            if name == ENCODING:  # no Spark parameter: each trial's encoding
                values = [t.features for t in ran]
            else:
                spark_name = models.family(family).PARAMS[name].spark_name
                values = [t.params[spark_name] for t in ran]  # trials keep Spark's names
            title = space.label(family, name)
        y = [t.metrics[metric] for t in ran]
        if spec.type == "choice":
            labels = [str(v) for v in spec.values or []]
            positions = [labels.index(str(v)) if str(v) in labels else -1 for v in values]
            jitter = np.random.default_rng(0).uniform(-0.15, 0.15, len(positions))
            ax.scatter(np.add(positions, jitter), y, s=24, alpha=0.8, c=y, cmap="viridis")
            ax.set_xticks(range(len(labels)), labels)
            ax.set_xlim(-0.5, len(labels) - 0.5)
        else:
            ax.scatter(values, y, s=24, alpha=0.8, c=y, cmap="viridis")
            if spec.log:
                ax.set_xscale("log")
                ax.xaxis.set_major_formatter(ScalarFormatter())  # 100, not 10^2
                ax.xaxis.set_minor_formatter(NullFormatter())
        if best is not None:
            ax.axhline(best, color="tab:orange", lw=0.8, ls="--")
        ax.set(xlabel=title, title=title)
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel(f"validation {metric}")
    fig.suptitle("Searched parameters against the metric")
    return fig


def confusion(
    matrix: Confusion, class_names: Mapping[int, str], title: str = "Best model on the test set"
) -> Figure:
    """Rows: true class, columns: predicted, named by the user's labels; colour is the share of
    the true class (recall), the number is the count."""
    labels = sorted(set(class_names) | {k for pair in matrix for k in pair})
    counts = np.array([[matrix.get((t, p), 0) for p in labels] for t in labels])
    totals = counts.sum(axis=1, keepdims=True)
    shares = np.divide(counts, totals, out=np.zeros(counts.shape), where=totals > 0)
    names = [class_names.get(k, str(k)) for k in labels]
    fig, ax = plt.subplots(figsize=(8, 7), layout="constrained")
    image = ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    for i, j in np.ndindex(counts.shape):
        ax.text(
            j, i, f"{counts[i, j]:,}", ha="center", va="center", fontsize=8,
            color="white" if shares[i, j] > 0.5 else "black",
        )  # fmt: skip
    ax.set_xticks(range(len(names)), names, rotation=35, ha="right")
    ax.set_yticks(range(len(names)), names)
    ax.set(xlabel="predicted", ylabel="true", title=title)
    fig.colorbar(image, ax=ax, label="share of the true class")
    return fig


def importances(values: Mapping[str, float], top: int = TOP_FEATURES) -> Figure:
    """The winner's largest feature importances, largest on top."""
    ranked = sorted(values.items(), key=lambda kv: kv[1], reverse=True)[:top][::-1]
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(ranked) + 1.2), layout="constrained")
    ax.barh([k for k, _ in ranked], [v for _, v in ranked], color="tab:green")
    ax.set(xlabel="importance (impurity decrease)", title=f"Top {len(ranked)} features")
    ax.grid(axis="x", alpha=0.3)
    return fig


def predicted_vs_actual(pairs: Sequence[tuple[float, float]], title: str = "Best model on the "
                        "test set") -> Figure:  # fmt: skip
    """Regression: each test row's prediction against its label (the diagonal is perfect), and
    the residuals against the prediction."""
    actual = np.array([a for a, _ in pairs])
    predicted = np.array([p for _, p in pairs])
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 5), layout="constrained")
    left.scatter(actual, predicted, s=8, alpha=0.4)
    if len(actual):
        low, high = (
            float(min(actual.min(), predicted.min())),
            float(max(actual.max(), predicted.max())),
        )
        left.plot([low, high], [low, high], color="tab:orange", lw=1)
    left.set(xlabel="actual", ylabel="predicted", title="Predicted against actual")
    right.scatter(predicted, predicted - actual, s=8, alpha=0.4)
    right.axhline(0, color="tab:orange", lw=1)
    right.set(xlabel="predicted", ylabel="residual (predicted - actual)", title="Residuals")
    for ax in (left, right):
        ax.grid(alpha=0.3)
    fig.suptitle(f"{title} ({len(pairs):,} rows)")
    return fig
