"""What the user reads at the end of a sweep. Pure: results in, text out."""

from __future__ import annotations

from sweep import tasks
from sweep.data.spec import DatasetSpec
from sweep.records import SweepResult, TrialRecord, params_line, table_columns
from sweep.story import fitted_note, runs_page
from sweep.tasks.classification import recall_by_class
from sweep.tracking.uri import redact

TOP = 5


def summary(result: SweepResult) -> str:
    best, metric = result.best, result.metric
    fits = sum(t.fit_seconds for t in result.trials)
    evals = sum(t.eval_seconds for t in result.trials)
    lines = [
        "",
        f"Sweep finished: {len(result.finished)} of {len(result.trials)} trials succeeded "
        f"in {result.wall_seconds:.1f} s (data {result.prepare_seconds:.1f} s, fits {fits:.1f} s, "
        f"evaluation {evals:.1f} s).",
        f"  parent run:  {result.parent_run_id} (experiment {result.experiment_id}), ended by "
        f"{result.end_reason}",
        f"  best trial:  #{best.number}, run {best.run_id}",
        "  best params: " + params_line(best) + fitted_note(result),
        f"  validation:  {_metrics(best.metrics)}",
        f"  test:        {_metrics(result.test_metrics)}",
        "  rows:        " + ", ".join(f"{k} {v:,}" for k, v in result.data_counts.items()),
        *_task_lines(result),
    ]
    if result.model_uri:
        lines.append(f"  model:       {result.model_uri}")
    reg = result.registration
    if reg:
        verdict = (
            f"now @{reg.alias}"
            if reg.promoted
            else f"@{reg.alias} stays on version {reg.champion_version}"
        )
        lines.append(f"  registry:    {reg.name} version {reg.version}, {verdict} ({reg.reason})")
        lines.append(
            f"  serve it:    {_env(result.tracking_uri)}mlflow models serve "
            f"-m models:/{reg.name}@{reg.alias} --env-manager local"
        )
    elif result.model_uri is None:
        lines.append(
            "  registry:    no model logged (tracking.log_models=none); register later with "
            f"python -m sweep.select {result.parent_run_id}"
        )
    lines += [f"  on a bound:  {b.note()}" for b in result.bounds]
    lines += ["", *top_trials(result.trials, metric), ""]
    lines += [
        f"Selected on validation {metric}. Compare the runs in the MLflow UI:",
        *_browse(result.tracking_uri, result.experiment_id),
    ]
    return "\n".join(lines)


def _task_lines(result: SweepResult) -> list[str]:
    """What was learned and how it was scored; for a table, how each column was used; for a
    classification, the winner's recall per class on the test split (a class it never predicts
    shows 0)."""
    spec = result.spec
    if spec is None:
        return []
    lines = [
        f"  task:        {spec.task} of {spec.label!r}, selected on {result.metric} "
        f"({tasks.direction(result.metric)} is better)"
    ]
    if result.test_confusion:
        names = spec.class_names()
        recall = recall_by_class(result.test_confusion)
        lines.append(
            "  recall:      "
            + ", ".join(f"{names.get(k, k)} {v:.3f}" for k, v in sorted(recall.items()))
            + " (test, per class)"
        )
    if spec.profile:
        lines += ["", *columns_table(spec)]
    lines += [f"  note: {note}" for note in spec.notes]
    return lines


def columns_table(spec: DatasetSpec) -> list[str]:
    """The table's columns as an aligned text table: type, role, distinct values, missing."""
    header = ["column", "type", "role", "distinct", "missing", "note"]
    rows = [
        [p.name, p.type, p.role, f"{p.distinct:,}" if p.distinct is not None else "-",
         f"{p.missing:.1%}", p.note]
        for p in spec.profile
    ]  # fmt: skip
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    return ["  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
            for row in [header, *rows]]  # fmt: skip


def top_trials(trials: list[TrialRecord], metric: str, n: int = TOP) -> list[str]:
    """The n best finished trials as an aligned text table, best first."""
    done = sorted(
        # each at its best point (sweep.curves); halving: only fits on all the training data
        (t.at_best(metric) for t in trials if t.status == "ok" and t.may_win),
        key=lambda t: tasks.loss(metric, t.metrics[metric]),
    )[:n]
    mixed, names = table_columns(done)
    header = ["#", f"val {metric}", *mixed, *names, "fit s"]
    rows = [
        [str(t.number), f"{t.metrics[metric]:.4f}", *(getattr(t, a) for a in mixed),
         *(str(t.params.get(k, "-")) for k in names), f"{t.fit_seconds:.1f}"]
        for t in done
    ]  # fmt: skip
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    table = ["  ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    title = f"Top {len(done)} of {sum(t.status == 'ok' for t in trials)} finished trials:"
    head = "  ".join(cell.rjust(w) for cell, w in zip(header, widths, strict=True))
    return [title, "  " + head, *("  " + line for line in table)]


def _is_server(uri: str) -> bool:
    return uri.startswith(("http://", "https://"))


def _env(uri: str) -> str:
    """What the serving command needs in front to find a server's registry (or nothing)."""
    return f"MLFLOW_TRACKING_URI={redact(uri)} " if _is_server(uri) else ""


def _browse(uri: str, experiment_id: str) -> list[str]:
    """How to open the runs table (the UI opens an experiment on its GenAI overview)."""
    page = runs_page(uri, experiment_id)
    if _is_server(uri):
        return [f"  open {page}"]
    return [f"  mlflow ui --backend-store-uri {uri}", f"  then open {page}"]


def _metrics(metrics: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.4f}" for k, v in metrics.items())
