"""Talking to a tracking server that may go away: bounded retries, and auth errors made clear.

`RetryingClient` wraps an `MlflowClient`: a call that fails because the server does not answer
(connection refused or reset, a timeout, 429 or 5xx) is retried with exponential backoff until
`tracking.retry_timeout_s` has passed since the call began; then `TrackingUnavailable`, and every
later call fails at once, so a sweep stops within the budget instead of once per call. A 401 or
403 is never retried: it becomes one `EnvironmentProblem` naming the credential variables, and
never showing their values.
"""

from __future__ import annotations

import functools
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import requests
from mlflow.exceptions import MlflowException

from sweep.errors import EnvironmentProblem, first_line

log = logging.getLogger(__name__)
T = TypeVar("T")
CREDENTIAL_VARS = ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD", "MLFLOW_TRACKING_TOKEN")
TRANSIENT_STATUS = (429, 500, 502, 503, 504)


class TrackingUnavailable(EnvironmentProblem):
    """The tracking server stayed unreachable for longer than tracking.retry_timeout_s."""

    def resumable(self, parent_run_id: str) -> TrackingUnavailable:
        """The same error, saying which sweep to resume once the server is back."""
        return TrackingUnavailable(
            f"{self.what}; sweep {parent_run_id} stopped, its finished trials are on the server",
            where=self.where,
            fix="Start the server again, then resume with the same command plus "
            f"sweep.resume={parent_run_id}",
        )


def http_status(exc: BaseException) -> int | None:
    """The HTTP status behind an MLflow or requests error, if there is one."""
    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        return exc.response.status_code
    if isinstance(exc, MlflowException):
        status = exc.get_http_status_code()
        # A plain MlflowException (no HTTP answer at all) also reports 500: not a server's reply.
        if status == 500 and "failed with error code" not in exc.message:
            return None
        return status
    return None


def is_transient(exc: BaseException) -> bool:
    """Pure: would the same call plausibly succeed once the server is back?"""
    if isinstance(exc, requests.ConnectionError | requests.Timeout | ConnectionError):
        return True
    message = exc.message if isinstance(exc, MlflowException) else ""
    if message.startswith("API request to ") and (
        " failed with exception " in message or "timeout exception" in message
    ):
        return True  # MLflow's wrapping of a refused, reset or timed-out connection
    return http_status(exc) in TRANSIENT_STATUS


def credentials_in_use(env: dict[str, str] | None = None) -> str:
    """Which credential variables are set (never their values), for error messages."""
    env = dict(os.environ if env is None else env)
    present = [name for name in CREDENTIAL_VARS if env.get(name)]
    return f"set: {', '.join(present)}" if present else "none of them is set"


def auth_problem(exc: BaseException, uri: str) -> EnvironmentProblem | None:
    """A 401/403 as one clear error; None for anything else."""
    status = http_status(exc)
    if status not in (401, 403):
        return None
    variables = f"{CREDENTIAL_VARS[0]}/{CREDENTIAL_VARS[1]} or {CREDENTIAL_VARS[2]}"
    if status == 401:
        what = f"the MLflow server refused the credentials (401 Unauthorized; {variables} are "
        what += f"read from the environment, {credentials_in_use()})"
        fix = (
            f"Set {CREDENTIAL_VARS[0]} and {CREDENTIAL_VARS[1]} (basic auth) or "
            f"{CREDENTIAL_VARS[2]} (a bearer token) to credentials the server accepts"
        )
    else:
        what = "the MLflow server denied this user permission (403 Forbidden)"
        fix = (
            "Ask the server's admin for the permission (e.g. EDIT on the experiment, or "
            f"to create experiments and models), or use another user's credentials in {variables}"
        )
    return EnvironmentProblem(what, where=f"tracking.uri={uri}", fix=fix)


@dataclass
class RetryPolicy:
    uri: str  # redacted: it appears in messages
    budget_s: float
    first_wait_s: float = 0.5
    max_wait_s: float = 8.0
    gone: bool = False  # set once the budget ran out: later calls fail at once

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        if self.gone:
            raise self.unavailable("it did not answer earlier in this sweep")
        started, wait = time.monotonic(), self.first_wait_s
        while True:
            try:
                return fn(*args, **kwargs)
            except Exception as exc:
                problem = auth_problem(exc, self.uri)
                if problem is not None:
                    raise problem from None  # the original may carry the request's headers
                if not is_transient(exc):
                    raise
                elapsed = time.monotonic() - started
                if elapsed + wait > self.budget_s:
                    self.gone = True
                    reason = _short(exc)
                    raise self.unavailable(f"{reason}; retried for {elapsed:.0f} s") from exc
                log.warning(
                    "The tracking store at %s is unavailable (%s); retrying in %.1f s",
                    self.uri,
                    _short(exc),
                    wait,
                )
                time.sleep(wait)
                wait = min(wait * 2, self.max_wait_s)

    def unavailable(self, reason: str) -> TrackingUnavailable:
        return TrackingUnavailable(
            f"the MLflow server stopped answering ({reason})",
            where=f"tracking.uri={self.uri}",
            fix="Start the server again and resume the sweep with sweep.resume=<parent run id>, "
            "or raise tracking.retry_timeout_s to wait longer",
        )


class RetryingClient:
    """An MlflowClient whose method calls go through a RetryPolicy."""

    def __init__(self, client: Any, policy: RetryPolicy):
        self._client, self._policy = client, policy

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._client, name)
        if not callable(attr):
            return attr

        @functools.wraps(attr)
        def call(*args: Any, **kwargs: Any) -> Any:
            return self._policy.call(attr, *args, **kwargs)

        return call


def _short(exc: BaseException) -> str:
    """One line, without the long urllib3 chain MLflow puts in its message."""
    text = first_line(exc)
    markers = ("Connection refused", "Connection reset", "timed out", "Remote end closed")
    for marker in (*markers, "database is locked"):
        if marker in text:
            return marker.lower()
    status = http_status(exc)
    return f"HTTP {status}" if status else text[:200]
