"""Owns what is logged on a run as a file: text, a matplotlib figure, a CSV table, the model."""

from __future__ import annotations

import io
from typing import Any

import pandas as pd
from mlflow.tracking import MlflowClient

from sweep.tracking.retry import RetryPolicy


class ArtifactWriter:
    """The artifact half of `Tracker`: needs its `client` and `retry`."""

    client: MlflowClient
    retry: RetryPolicy | None

    def log_text(self, run_id: str, text: str, path: str) -> None:
        self.client.log_text(run_id, text, path)

    def log_figure(self, run_id: str, figure: Any, path: str) -> None:
        """Log a matplotlib figure as a PNG artifact, then close it."""
        import matplotlib.pyplot as plt

        try:
            self.client.log_figure(run_id, figure, path)
        finally:
            plt.close(figure)

    def log_table(self, run_id: str, frame: pd.DataFrame, path: str) -> None:
        buffer = io.StringIO()
        frame.to_csv(buffer, index=False)
        self.client.log_text(run_id, buffer.getvalue(), path)

    def log_model(self, run_id: str, model: Any, example: pd.DataFrame, spec: Any = None) -> str:
        """Log a Spark model on a (finished) run, with its JVM-free scorer
        (`sweep.tracking.servable`); returns the model URI to load it from. A table's model needs
        its DatasetSpec: the raw columns' rules, the labels and the signature come from it."""
        if self.retry is None:
            return _log_model(self.client, run_id, model, example, spec)
        return self.retry.call(_log_model, self.client, run_id, model, example, spec)

    def download(self, run_id: str, path: str) -> str:
        """A run's artifact, downloaded: its local path."""
        return self.client.download_artifacts(run_id, path)

    def artifact_names(self, run_id: str) -> set[str]:
        return {a.path for a in self.client.list_artifacts(run_id)}


def _log_model(
    client: MlflowClient, run_id: str, model: Any, example: pd.DataFrame, spec: Any = None
) -> str:
    from sweep.tracking import servable

    signature = servable.signature(example.columns, spec)
    return servable.log_model(run_id, model, signature, example, client=client, spec=spec)
