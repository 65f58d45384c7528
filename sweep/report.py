"""What the user reads at the end of a sweep. Pure: results in, text out."""

from __future__ import annotations

from sweep.runner import SweepResult


def summary(result: SweepResult) -> str:
    best, metric = result.best, result.metric
    fits = sum(t.fit_seconds for t in result.trials)
    evals = sum(t.eval_seconds for t in result.trials)
    lines = [
        "",
        f"Sweep finished: {len(result.finished)} of {len(result.trials)} trials succeeded "
        f"in {result.wall_seconds:.1f} s (data {result.prepare_seconds:.1f} s, fits {fits:.1f} s, "
        f"evaluation {evals:.1f} s).",
        f"  parent run:  {result.parent_run_id} (experiment {result.experiment_id})",
        f"  best trial:  #{best.number}, run {best.run_id}",
        "  best params: " + ", ".join(f"{k}={v}" for k, v in best.params.items()),
        f"  validation:  {_metrics(best.metrics)}",
        f"  test:        {_metrics(result.test_metrics)}",
        "  rows:        " + ", ".join(f"{k} {v:,}" for k, v in result.data_counts.items()),
    ]
    if result.model_uri:
        lines.append(f"  model:       {result.model_uri}")
    lines += [
        f"Selected on validation {metric}. Compare the runs in the MLflow UI:",
        f"  mlflow ui --backend-store-uri {result.tracking_uri}",
    ]
    return "\n".join(lines)


def _metrics(metrics: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.4f}" for k, v in metrics.items())
