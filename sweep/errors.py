"""The errors `sweep` raises on purpose, and the one place that formats them for the terminal.

Every error says what went wrong, where (a config key, a file, a line) and how to fix it. The CLI
prints that paragraph without a traceback; `HYDRA_FULL_ERROR=1` shows the traceback as well.
"""

from __future__ import annotations


def one_line(exc: BaseException, limit: int = 500) -> str:
    """`Type: first line of the message`, or just `Type` when the message is empty (an
    `AssertionError()` or `TimeoutError()` has none): an error report must not itself fail."""
    lines = str(exc).strip().splitlines()
    text = f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__
    return text[:limit]


def first_line(exc: BaseException) -> str:
    """The message's first line; the exception's type when the message is empty."""
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


class SweepError(Exception):
    """An error the user can fix; `where` names the config key or file, `fix` says how."""

    exit_code = 2

    def __init__(self, what: str, *, where: str | None = None, fix: str | None = None):
        self.what = what
        self.where = where
        self.fix = fix
        super().__init__(self.format())

    def format(self) -> str:
        parts = [f"{self.where}: {self.what}" if self.where else self.what]
        if self.fix:
            parts.append(self.fix)
        return " ".join(p.rstrip(".") + "." for p in parts)


class ConfigError(SweepError):
    """A config value is invalid (wrong type, out of range, unknown name)."""


class DataError(SweepError):
    """The data cannot be read, downloaded or is malformed."""


class EnvironmentProblem(SweepError):
    """Something outside the project is missing or wrong: Java, the tracking server."""


class UnsupportedModel(SweepError):
    """A fitted pipeline the JVM-free scorer cannot reproduce (sweep.export): logging stops
    rather than store a model whose two flavors would predict differently."""


class AllTrialsFailed(SweepError):
    """No trial of the sweep finished, so there is no best model."""

    exit_code = 1


class TooManyFailures(SweepError):
    """More trials failed than `sweep.max_failures` allows; the sweep was aborted."""

    exit_code = 1


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM arrived. A KeyboardInterrupt, so every run context ends KILLED."""

    def __init__(
        self, signum: int, parent_run_id: str | None = None, finished: int = 0, failed: int = 0
    ):
        super().__init__(signum)
        self.signum, self.parent_run_id = signum, parent_run_id
        self.finished, self.failed = finished, failed

    @property
    def exit_code(self) -> int:
        return 128 + self.signum  # 130 for SIGINT, 143 for SIGTERM, as shells report them
