"""sweep: seeded Hyperopt (TPE) sweeps of Spark ML decision trees, tracked in MLflow.

`sweep.run(df_or_path, label=..., overrides=[...])` runs a sweep from Python (`sweep.api`)."""

from typing import Any

__version__ = "0.1.0"


def run(data: Any = None, **kwargs: Any) -> Any:
    """Run a sweep from Python and return its outcome: see `sweep.api.run`."""
    from sweep.api import run as _run

    return _run(data, **kwargs)
