"""Owns the per-trial time budget, `sweep.trial_timeout_s`: a trial that runs past it has its Spark
jobs cancelled and fails with `TrialTimeout`; the SparkSession stays usable for the next trial.

Each trial's jobs carry a Spark job tag of their own (tags are per thread, so parallel trials do
not cancel each other). A watchdog thread waits out the budget, then cancels the tag's jobs, again
every 0.2 s until the trial returns: a tree fit is many short jobs with driver work between them,
and a cancel reaches only the jobs running at that moment. What the cancelled fit had cached
(Spark's tree persists its binned input and only unpersists it on success) is unpersisted, or
every timed-out trial would keep its share of executor memory; with parallel trials that may
include another running trial's cache, which Spark then recomputes from its lineage.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from pyspark import SparkContext

log = logging.getLogger(__name__)
RECANCEL_S = 0.2


class TrialTimeout(Exception):
    """The trial ran past `sweep.trial_timeout_s`; its Spark jobs were cancelled."""


@contextmanager
def time_limit(sc: SparkContext, seconds: float | None, tag: str) -> Iterator[None]:
    """Run the block's Spark jobs under `tag`; past `seconds` cancel them and raise TrialTimeout.
    A block that still finishes after the budget (between two cancels) is a timeout too: what
    ran past the budget fails, whether or not a cancel reached it."""
    if seconds is None:
        yield
        return
    cached_before = _persistent_rdd_ids(sc)
    done, expired = threading.Event(), threading.Event()

    def watch() -> None:
        if done.wait(seconds):
            return
        expired.set()
        while not done.is_set():
            sc.cancelJobsWithTag(tag)
            done.wait(RECANCEL_S)

    sc.addJobTag(tag)
    watchdog = threading.Thread(target=watch, name=f"{tag}-watchdog", daemon=True)
    watchdog.start()
    timeout = TrialTimeout(
        f"ran past sweep.trial_timeout_s={seconds:g} s; its Spark jobs were cancelled"
    )
    try:
        yield
    except Exception as exc:
        if not expired.is_set():
            raise
        _unpersist_new(sc, cached_before)
        raise timeout from exc
    else:
        if expired.is_set():
            _unpersist_new(sc, cached_before)
            raise timeout
    finally:
        done.set()
        watchdog.join()
        sc.removeJobTag(tag)


def _persistent_rdd_ids(sc: SparkContext) -> set[int]:
    return set(sc._jsc.getPersistentRDDs().keySet())  # noqa: SLF001  (no public listing)


def _unpersist_new(sc: SparkContext, before: set[int]) -> None:
    rdds = sc._jsc.getPersistentRDDs()  # noqa: SLF001
    for rdd_id in set(rdds.keySet()) - before:
        rdds.get(rdd_id).unpersist(False)
        log.debug("Unpersisted RDD %d left by a timed-out trial", rdd_id)
