"""Owns the records a sweep produces, as plain data: a trial, a registration, the whole sweep, a
confusion matrix and the metric names. No Spark, no MLflow: the plots, the report and the story
read these without importing what made them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

Confusion = dict[tuple[int, int], int]  # (true label, predicted label) → count


@dataclass
class TrialRecord:
    number: int
    run_id: str
    status: str  # "running", then "ok" or "fail" ("running" stays if the sweep is killed)
    params: dict[str, Any]
    metrics: dict[str, float] = field(default_factory=dict)
    fit_seconds: float = 0.0
    eval_seconds: float = 0.0
    error: str | None = None
    model_uri: str | None = None
    name: str = ""  # the child run's name (see sweep.story.trial_name)
    family: str = ""  # the model family it fitted (model=auto mixes them)
    features: str = "onehot"  # the encoding it fitted on (data.features, or searched)
    # sweep.scheduler=halving: the share of the training split fitted on, its rung, and the
    # configuration (TPE point) it belongs to. Only fits on 1.0 can be the winner.
    train_fraction: float = 1.0
    rung: int | None = None
    config: int | None = None
    # sweep.curves (sweep.curves): the fitted model's validation metrics at every smaller value of
    # a Spark param it holds, e.g. {"maxDepth": {12: {"accuracy": 0.91, ...}, ...}}
    curves: dict[str, dict[int, dict[str, float]]] = field(default_factory=dict)

    @property
    def may_win(self) -> bool:
        """Only a fit on the whole training split can be the winner (halving's lower rungs fit
        on part of it)."""
        return self.train_fraction == 1.0

    def at_best(self, metric: str) -> TrialRecord:
        """This trial as its best point: itself, or the point of its curves that scored better on
        `metric` (its params changed to that point's: a model the winner's refit gives exactly)."""
        from sweep import tasks  # records are plain data; tasks imports records

        best, where = self.metrics.get(metric), None
        for param, points in self.curves.items():
            for value, metrics in sorted(points.items()):
                if (
                    metric in metrics
                    and best is not None
                    and tasks.better(metric, metrics[metric], best)
                ):
                    best, where = metrics[metric], (param, value, metrics)
        if where is None:
            return self
        param, value, metrics = where
        return replace(
            self,
            params={**self.params, param: value},
            metrics=metrics,
            curves={},
            model_uri=None,  # the child's model is its fit, not this point
        )


@dataclass(frozen=True)
class Registration:
    name: str
    version: int
    alias: str
    promoted: bool
    reason: str
    champion_version: int | None  # the champion before this registration


def params_line(trial: TrialRecord) -> str:
    """`family=forest, numTrees=14, …`; trials from before families show their params only, a
    trial on categorical features says so (`features=categorical`: onehot is the default)."""
    shown = {"family": trial.family} if trial.family else {}
    if trial.features != "onehot":
        shown["features"] = trial.features
    shown.update(trial.params)
    return ", ".join(f"{k}={v}" for k, v in shown.items())


def table_columns(trials: list[TrialRecord]) -> tuple[list[str], list[str]]:
    """For a table of trials: what they mix (a `family` and/or `features` column: model=auto, a
    searched encoding), and every Spark parameter any of them has, in first-seen order (a
    parameter another family lacks: `-`)."""
    mixed = [a for a in ("family", "features") if len({getattr(t, a) for t in trials}) > 1]
    return mixed, list(dict.fromkeys(k for t in trials for k in t.params))


@dataclass
class SweepResult:
    parent_run_id: str
    experiment_id: str
    tracking_uri: str
    metric: str
    trials: list[TrialRecord]
    best: TrialRecord
    test_metrics: dict[str, float]
    model_uri: str | None
    data_counts: dict[str, int]
    wall_seconds: float
    prepare_seconds: float
    registration: Registration | None = None
    end_reason: str = "max_evals"  # or timeout, early_stop
    spec: Any = None  # the DatasetSpec: label, task, classes, the columns' roles
    test_confusion: Confusion | None = None  # classification: the winner on the test split
    bounds: list[Any] = field(default_factory=list)  # sweep.search.bounds: the winner on an end

    @property
    def finished(self) -> list[TrialRecord]:
        return [t for t in self.trials if t.status == "ok"]
