"""Owns what is logged on a run as values: params, metrics and tags in one batch, and the data
the run used as MLflow dataset inputs."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from mlflow.entities import Dataset, DatasetInput, InputTag, Metric, Param, RunTag
from mlflow.tracking import MlflowClient

from sweep import run_keys
from sweep.lineage import CONTEXT_TAG, DataInput


class ValueWriter:
    """The value half of `Tracker`: needs its `client`."""

    client: MlflowClient
    reopened: set[str]

    def log(
        self,
        run_id: str,
        params: Mapping[str, Any] = (),
        metrics: Mapping[str, float] = (),
        tags: Mapping[str, Any] = (),
        step: int = 0,
    ) -> None:
        """Log in one call, metrics at `step`. MLflow params cannot change: on a reopened run (a
        resumed sweep's parent) a changed value (a larger max_evals, a new best) goes to the tag
        `updated.<param>` instead; a run this process created is not read back first."""
        params, tags = {k: str(v) for k, v in dict(params).items()}, dict(tags)
        if params and run_id in self.reopened:
            existing = self.client.get_run(run_id).data.params
            for key in [k for k, v in params.items() if existing.get(k, v) != v]:
                tags[f"{run_keys.UPDATED}{key}"] = params.pop(key)
        self.client.log_batch(
            run_id,
            metrics=[Metric(k, float(v), _now_ms(), step) for k, v in dict(metrics).items()],
            params=[Param(k, v) for k, v in params.items()],
            tags=[RunTag(k, str(v)) for k, v in tags.items()],
        )

    def log_steps(self, run_id: str, series: Mapping[str, Mapping[int, float]]) -> None:
        """Stepped metrics (a validation curve: key → step → value), in batches of MLflow's
        limit of 1000 values a call."""
        now = _now_ms()
        values = [
            Metric(k, float(v), now, int(step)) for k, s in series.items() for step, v in s.items()
        ]
        for start in range(0, len(values), 1000):
            self.client.log_batch(run_id, metrics=values[start : start + 1000])

    def log_inputs(self, run_id: str, inputs: list[DataInput]) -> None:
        """The data a run used, as MLflow dataset inputs (one call for all of them)."""
        self.client.log_inputs(
            run_id,
            datasets=[
                DatasetInput(
                    Dataset(d.name, d.digest, d.source_type, d.source, d.schema, d.profile),
                    tags=[InputTag(CONTEXT_TAG, d.context)],
                )
                for d in inputs
            ],
        )


def _now_ms() -> int:
    return int(time.time() * 1000)
