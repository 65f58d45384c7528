"""The sweep's progress, as the user reads it: in the terminal's progress bar (`best accuracy
0.8618 · 1 failed`, not hyperopt's `best loss: -0.8617…`) and as the parent run's stepped
best-so-far metric, which the MLflow UI draws as the search history.

`Progress` is called once per finished trial (ok or failed) by the objective, from any thread.
`Progress.bar` is a context manager factory `(initial, total)` yielding an object with
`update(n)`, which the schedulers drive (hyperopt's `fmin(show_progressbar=...)` takes it too).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from hyperopt.std_out_err_redirect_tqdm import std_out_err_redirect_tqdm
from tqdm import tqdm

from sweep import tasks
from sweep.records import TrialRecord


def postfix(metric: str, best: float | None, failed: int, ending: str = "") -> str:
    """Pure: the text after the bar."""
    parts = [f"best {metric} {best:.4f}" if best is not None else f"no {metric} yet"]
    if failed:
        parts.append(f"{failed} failed")
    if ending:
        parts.append(ending)
    return " · ".join(parts)


class Progress:
    def __init__(
        self,
        metric: str,
        earlier: list[TrialRecord],
        log_best: Callable[[int, float], None] | None = None,
    ):
        """`earlier`: a resumed sweep's finished trials; `log_best(step, value)` records the
        best-so-far value after trial `step` (None: not recorded)."""
        self.metric, self.log_best = metric, log_best
        self.best = tasks.best_value((self.value(r) for r in earlier if r.may_win), metric)
        self.failed = 0
        self.lock = threading.Lock()

    def __call__(self, record: TrialRecord) -> None:
        with self.lock:
            if record.status != "ok":
                self.failed += 1
            elif record.may_win:  # halving: a fit on part of the data can't win
                value = self.value(record)
                if tasks.better(self.metric, value, self.best):
                    self.best = value
            best = self.best
        if best is not None and self.log_best is not None:
            self.log_best(record.number, best)

    def catch_up(self, earlier: list[TrialRecord], logged: set[int]) -> None:
        """A resumed sweep's best-so-far steps its interrupted process did not log (killed
        between a trial's end and its step), logged now, in trial order."""
        best = None
        for record in sorted(earlier, key=lambda r: r.number):
            if record.may_win:
                value = self.value(record)
                if tasks.better(self.metric, value, best):
                    best = value
            if best is not None and record.number not in logged and self.log_best is not None:
                self.log_best(record.number, best)

    def value(self, record: TrialRecord) -> float:
        """A trial's value: its best point's (with curves, perhaps a smaller depth's)."""
        return record.at_best(self.metric).metrics[self.metric]

    def text(self, ending: str = "") -> str:
        return postfix(self.metric, self.best, self.failed, ending)

    @contextmanager
    def bar(self, initial: int, total: int) -> Iterator[Any]:
        """A tqdm bar (on stdout, like hyperopt's) whose text this object writes."""
        with (
            std_out_err_redirect_tqdm() as stdout,
            tqdm(
                total=total, initial=initial, file=stdout, dynamic_ncols=True, unit="trial"
            ) as bar,
        ):
            view = _Bar(bar, self)
            ending = ""
            try:
                yield view
            except BaseException:
                ending = "interrupted"
                raise
            finally:
                if not ending and bar.n < total:
                    ending = f"stopped after {bar.n} of {total}"
                bar.set_postfix_str(self.text(ending), refresh=True)


class _Bar:
    """What hyperopt drives: it sets `postfix` to its loss text (ignored) and calls `update`."""

    def __init__(self, bar: tqdm, progress: Progress):
        self.bar, self.progress = bar, progress
        self.postfix = ""

    def update(self, n: int) -> None:
        self.bar.set_postfix_str(self.progress.text(), refresh=False)
        self.bar.update(n)
