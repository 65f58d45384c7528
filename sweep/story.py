"""What the MLflow UI says about a sweep, as text. Pure: values in, strings out.

The run names are what a chart legend shows, so they say the configuration; the descriptions are
MLflow's run note (`mlflow.note.content`) and the registered version's description, rendered as
Markdown by the UI. Nothing here talks to MLflow.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from sweep import tasks
from sweep.records import params_line, table_columns
from sweep.tracking.uri import redact

if TYPE_CHECKING:
    from sweep.records import Registration, SweepResult, TrialRecord

NOTE_TAG = "mlflow.note.content"  # MLflow's run description
# Where `mlflow ui` opens an experiment: its workflow switch, kept in the page's query string.
RUNS_VIEW = "?workflowType=machine_learning"
LOCAL_UI = "http://127.0.0.1:5000"  # where `mlflow ui` listens by default
TOP = 5

# How a Spark parameter reads in a run name: a letter before numbers; choices show their value.
SHORT = {
    "numTrees": "T",
    "subsamplingRate": "s",
    "maxDepth": "d",
    "maxBins": "b",
    "minInstancesPerNode": "n",
    "minInfoGain": "g",
    "minWeightFractionPerNode": "w",
}


def best_so_far_key(metric: str) -> str:
    """The parent's stepped metric: the best validation value after each trial (step = trial)."""
    return f"best_so_far_{metric}"


def trial_name(
    number: int,
    params: Mapping[str, Any],
    max_evals: int = 100,
    order: Sequence[str] = (),
    family: str | None = None,
    features: str | None = None,
) -> str:
    """`t05 d30 b139 entropy`: trial number first (zero-padded to the budget, so names sort),
    then the family when a sweep mixes them (`t05 forest T14 d28 …`), the encoding when it is
    searched (`t05 categorical d28 …`), then each parameter, those in `order` (the search
    space's) first."""
    width = max(2, len(str(max(max_evals - 1, 0))))
    parts = [
        f"t{number:0{width}d}",
        *([family] if family else []),
        *([features] if features else []),
    ]
    names = [*(n for n in order if n in params), *(n for n in params if n not in order)]
    for name, value in ((n, params[n]) for n in names):
        if name not in SHORT:
            parts.append(str(value))
        elif isinstance(value, float):
            parts.append(f"{SHORT[name]}{value:.3g}")
        else:
            parts.append(f"{SHORT[name]}{value}")
    return " ".join(parts)


def run_link(tracking_uri: str, experiment_id: str, run_id: str) -> str:
    """A link to a run in the MLflow UI: absolute for a server, page-relative otherwise (the UI
    renders the link on its own page, so `#/...` stays inside it)."""
    path = f"#/experiments/{experiment_id}/runs/{run_id}"
    if tracking_uri.startswith(("http://", "https://")):
        return f"{redact(tracking_uri).rstrip('/')}/{path}"
    return path


def version_link(name: str, version: int) -> str:
    return f"#/models/{quote(name, safe='')}/versions/{version}"


def runs_page(tracking_uri: str, experiment_id: str, local_ui: str = LOCAL_UI) -> str:
    """The experiment's runs table, not the GenAI overview MLflow 3.17's UI opens on (it reads
    the workflow from the page's query string and ignores the experiment-kind tag). A server
    serves its own UI; a local store is browsed with `mlflow ui` at `local_ui`."""
    server = tracking_uri.startswith(("http://", "https://"))
    base = redact(tracking_uri).rstrip("/") if server else local_ui.rstrip("/")
    return f"{base}/#/experiments/{experiment_id}/runs{RUNS_VIEW}"


def parent_note(s: SweepResult) -> str:
    """The parent run's description: the terminal summary's essentials, in Markdown."""
    best, metric = s.best, s.metric
    failed = len(s.trials) - len(s.finished)
    lines = [
        f"**Best: trial {best.number}** ([{best.name or best.run_id}]"
        f"({run_link(s.tracking_uri, s.experiment_id, best.run_id)})), "
        f"validation {metric} **{best.metrics[metric]:.4f}**, "
        f"test {metric} **{s.test_metrics[metric]:.4f}**",
        "",
        f"- best parameters: {params_line(best)}{fitted_note(s)}",
        f"- validation: {_metrics(best.metrics)}",
        f"- test: {_metrics(s.test_metrics)}",
        f"- trials: {len(s.finished)} finished, {failed} failed; ended by {s.end_reason} "
        f"after {s.wall_seconds:.0f} s",
        "- rows: " + ", ".join(f"{k} {v:,}" for k, v in s.data_counts.items()),
    ]
    if s.registration:
        lines.append(f"- registered: {registration_line(s.registration)}")
    lines += [f"- **on a bound**: {b.note()}" for b in s.bounds]
    return "\n".join([*lines, "", *top_table(s.trials, metric)])


def fitted_note(s: SweepResult) -> str:
    """When the winner is a point of a trial's curve (sweep.curves): what that trial fitted, and
    that the registered model is that point refitted."""
    fitted = next((t for t in s.trials if t.run_id == s.best.run_id), None)
    if fitted is None or fitted.params == s.best.params:
        return ""
    changed = ", ".join(f"{k}={fitted.params[k]}" for k in s.best.params
                        if s.best.params[k] != fitted.params.get(k))  # fmt: skip
    return f" (its trial fitted {changed}; its curve's best point, refitted)"


def registration_line(reg: Registration) -> str:
    verdict = (
        f"now @{reg.alias}" if reg.promoted else f"@{reg.alias} stays on v{reg.champion_version}"
    )
    link = version_link(reg.name, reg.version)
    return f"[{reg.name} v{reg.version}]({link}), {verdict} ({reg.reason})"


def version_note(s: SweepResult) -> str:
    """The registered version's description: what won, by how much, and a link to its sweep."""
    best, metric = s.best, s.metric
    sweep = run_link(s.tracking_uri, s.experiment_id, s.parent_run_id)
    return "\n".join(
        [
            f"Trial {best.number} of [sweep {s.parent_run_id}]({sweep}): "
            f"validation {metric} {best.metrics[metric]:.4f}, "
            f"test {metric} {s.test_metrics[metric]:.4f}.",
            "",
            f"- parameters: {params_line(best)}",
            f"- test: {_metrics(s.test_metrics)}",
            f"- {len(s.finished)} of {len(s.trials)} trials finished; ended by {s.end_reason}",
        ]
    )


def top_table(trials: list[TrialRecord], metric: str, n: int = TOP) -> list[str]:
    """The n best finished trials as a Markdown table, best first."""
    done = sorted(
        # each at its best point (sweep.curves); halving: only fits on all the training data
        (t.at_best(metric) for t in trials if t.status == "ok" and t.may_win),
        key=lambda t: tasks.loss(metric, t.metrics[metric]),
    )[:n]
    if not done:
        return []
    mixed, names = table_columns(done)
    rows = [
        ["trial", f"validation {metric}", *mixed, *names, "fit s"],
        ["--:", "--:", *("--:" for _ in [*mixed, *names]), "--:"],
        *(
            [str(t.number), f"{t.metrics[metric]:.4f}", *(getattr(t, a) for a in mixed),
             *(str(t.params.get(k, "-")) for k in names), f"{t.fit_seconds:.1f}"]
            for t in done
        ),
    ]  # fmt: skip
    title = f"Top {len(done)} of {sum(t.status == 'ok' for t in trials)} finished trials:"
    return [title, "", *("| " + " | ".join(row) + " |" for row in rows)]


def _metrics(metrics: Mapping[str, float]) -> str:
    return ", ".join(f"{k} {v:.4f}" for k, v in metrics.items())
