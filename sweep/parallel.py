"""Up to `sweep.parallelism` fits at once, from driver threads sharing one SparkSession (the
schedulers' trials: `sweep.schedulers`).

hyperopt's own asynchronous mode expects external workers (MongoDB, or SparkTrials, which cannot
fit MLlib models). This is the same idea in-process: each thread runs the objective, which logs to
its own child run through the MlflowClient, never the fluent active run, and submits its Spark jobs
to its own FAIR scheduler pool, so trials share the executors.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from contextlib import suppress
from typing import Any


def pooled(spark: Any, call: Callable[..., Any], *args: Any) -> Any:
    """`call(*args)` with this thread's Spark jobs in its own FAIR pool."""
    spark.setLocalProperty("spark.scheduler.pool", threading.current_thread().name)
    return call(*args)


def finish(running: dict[Future, Any]) -> None:
    """Wait for the other running fits once one raised: the first error is the one reported."""
    for future in list(running):
        with suppress(BaseException):
            future.result()


def run_calls(calls: list[Callable[[], Any]], parallelism: int, spark: Any) -> None:
    """Run the calls, up to `parallelism` at once in driver threads, each in its own FAIR
    scheduler pool; the first error is raised once all calls ended."""
    if parallelism <= 1:
        for call in calls:
            call()
        return
    error: BaseException | None = None
    with ThreadPoolExecutor(parallelism, thread_name_prefix="trial") as pool:
        for future in as_completed([pool.submit(pooled, spark, call) for call in calls]):
            try:
                future.result()
            except BaseException as exc:  # the others finish; the first error is the one raised
                error = error or exc
    if error is not None:
        raise error
