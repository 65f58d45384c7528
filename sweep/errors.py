"""The errors `sweep` raises on purpose, and the one place that formats them for the terminal.

Every error says what went wrong, where (a config key, a file, a line) and how to fix it. The CLI
prints that paragraph without a traceback; `HYDRA_FULL_ERROR=1` shows the traceback as well.
"""

from __future__ import annotations


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


class AllTrialsFailed(SweepError):
    """No trial of the sweep finished, so there is no best model."""

    exit_code = 1
