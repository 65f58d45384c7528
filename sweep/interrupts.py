"""Ctrl-C and SIGTERM without breaking the Py4J connection Spark runs on.

A Python signal handler that raises inside a Py4J call abandons the call mid-protocol. So the sweep
runs in a worker thread; the main thread only waits. On SIGINT or SIGTERM it records the request
and cancels the running Spark jobs (from its own idle connection), and again every 0.2 s until the
work ends; the trial that was running fails, the objective sees the request and raises
`Interrupted`, and every run context ends KILLED.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from typing import TypeVar

from sweep.errors import Interrupted

T = TypeVar("T")
SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopRequest:
    """Set by the signal handler, checked by the objective between and after Spark calls."""

    def __init__(self) -> None:
        self.signum: int | None = None

    @property
    def requested(self) -> bool:
        return self.signum is not None

    def raise_if_requested(self) -> None:
        if self.signum is not None:
            raise Interrupted(self.signum)


def run_interruptibly(work: Callable[[StopRequest], T], cancel: Callable[[], None]) -> T:
    """Run `work(stop)` in a thread; a signal sets `stop` and calls `cancel` (e.g. cancel the
    Spark jobs). Returns what `work` returns, or raises what it raised."""
    stop = StopRequest()
    outcome: dict[str, object] = {}

    def target() -> None:
        try:
            outcome["value"] = work(stop)
        except BaseException as exc:  # handed to the main thread, re-raised there
            outcome["error"] = exc

    def handler(signum: int, frame: object) -> None:
        if stop.signum is None:
            stop.signum = signum
            cancel()

    previous = {s: signal.signal(s, handler) for s in SIGNALS}
    worker = threading.Thread(target=target, name="sweep")
    try:
        worker.start()
        while worker.is_alive():
            worker.join(0.2)  # short waits keep the main thread free to take signals
            if stop.requested:  # a cancel reaches only the jobs running at that moment; the
                cancel()  # work starts more between them (a preparation, a tree fit)
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["value"]  # type: ignore[return-value]
