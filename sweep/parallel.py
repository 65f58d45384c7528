"""Up to `sweep.parallelism` trials at once, from driver threads sharing one SparkSession: TPE's
own loop (`fmin_threads`) and a batch of given fits (`run_calls`, the halving scheduler's).

hyperopt's own asynchronous mode expects external workers (MongoDB, or SparkTrials, which cannot
fit MLlib models). This is the same idea in-process: TPE suggests a point whenever a thread is free,
using the trials finished so far (running ones are not in its history yet); each thread runs the
objective, which logs to its own child run through the MlflowClient, never the fluent active run.
Each thread submits its Spark jobs to its own FAIR scheduler pool, so trials share the executors.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, as_completed, wait
from contextlib import AbstractContextManager, nullcontext, suppress
from typing import Any

import numpy as np
from hyperopt import JOB_STATE_DONE, JOB_STATE_RUNNING, Trials, base
from pyspark import SparkContext


def fmin_threads(
    objective: Callable[[dict[str, Any]], dict[str, Any]],
    space: Any,
    algo: Callable[..., list[dict[str, Any]]],
    trials: Trials,
    *,
    max_evals: int,
    parallelism: int,
    rstate: np.random.Generator,
    spark: SparkContext,
    timeout: float | None = None,
    early_stop: Callable[[Trials], tuple[bool, list]] | None = None,
    progress: Callable[..., AbstractContextManager[Any]] | None = None,
) -> None:
    """Like hyperopt.fmin, with up to `parallelism` evaluations running at once. `progress` is
    what fmin's `show_progressbar` takes: `(initial, total)` → a context with `update(n)`."""
    domain = base.Domain(objective, space)
    deadline = None if timeout is None else time.monotonic() + timeout
    running: dict[Future, dict[str, Any]] = {}
    stopping = False

    def evaluate(doc: dict[str, Any]) -> dict[str, Any]:
        spark.setLocalProperty("spark.scheduler.pool", threading.current_thread().name)
        ctrl = base.Ctrl(trials, current_trial=doc)
        return domain.evaluate(base.spec_from_misc(doc["misc"]), ctrl)

    shown = progress(initial=len(trials.trials), total=max_evals) if progress else nullcontext()
    with shown as bar, ThreadPoolExecutor(parallelism, thread_name_prefix="trial") as pool:
        while True:
            while (
                len(running) < parallelism
                and not stopping
                and len(trials.trials) < max_evals  # running trials included
                and (deadline is None or time.monotonic() < deadline)
            ):
                ids = trials.new_trial_ids(1)
                trials.refresh()
                docs = algo(ids, domain, trials, rstate.integers(2**31 - 1))
                if not docs:
                    stopping = True
                    break
                trials.insert_trial_docs(docs)
                trials.refresh()
                for doc in docs:
                    doc["state"] = JOB_STATE_RUNNING
                    running[pool.submit(evaluate, doc)] = doc
            if not running:
                break
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                doc = running.pop(future)
                try:
                    doc["result"] = future.result()
                except BaseException:
                    stopping = True  # let the other running trials end, then raise
                    _finish(running)
                    raise
                doc["state"] = JOB_STATE_DONE
                if bar is not None:
                    bar.update(1)
            trials.refresh()
            if early_stop is not None and early_stop(trials)[0]:
                stopping = True


def _finish(running: dict[Future, dict[str, Any]]) -> None:
    for future in list(running):
        with suppress(BaseException):  # the first error is the one reported
            future.result()


def run_calls(calls: list[Callable[[], Any]], parallelism: int, spark: Any) -> None:
    """Run the calls, up to `parallelism` at once in driver threads, each in its own FAIR
    scheduler pool, as fmin_threads' trials; the first error is raised once all calls ended."""
    if parallelism <= 1:
        for call in calls:
            call()
        return

    def pooled(call: Callable[[], Any]) -> Any:
        spark.setLocalProperty("spark.scheduler.pool", threading.current_thread().name)
        return call()

    error: BaseException | None = None
    with ThreadPoolExecutor(parallelism, thread_name_prefix="trial") as pool:
        for future in as_completed([pool.submit(pooled, call) for call in calls]):
            try:
                future.result()
            except BaseException as exc:  # the others finish; the first error is the one raised
                error = error or exc
    if error is not None:
        raise error
