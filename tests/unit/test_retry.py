"""sweep.tracking.retry: what counts as a passing outage, what as an auth error, the bounded
policy."""

import sqlite3

import pytest
import requests
import sqlalchemy
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import (
    INVALID_PARAMETER_VALUE,
    RESOURCE_DOES_NOT_EXIST,
    TEMPORARILY_UNAVAILABLE,
)

from sweep.errors import EnvironmentProblem
from sweep.tracking.retry import (
    RetryPolicy,
    TrackingUnavailable,
    auth_problem,
    credentials_in_use,
    is_transient,
)
from sweep.tracking.uri import redact


def http_error(status):
    """MLflow's own error for a non-JSON reply with this status (as rest_utils raises it)."""
    from mlflow.exceptions import get_error_code

    return MlflowException(
        f"API request to endpoint /api/2.0/mlflow/runs/get failed with error code {status} "
        "!= 200. Response body: 'nope'",
        error_code=get_error_code(status),
    )


REFUSED = MlflowException(
    "API request to http://127.0.0.1:5000/api/2.0/mlflow/runs/create failed with exception "
    "HTTPConnectionPool(host='127.0.0.1', port=5000): Max retries exceeded (Connection refused)"
)


# What MLflow's SQLAlchemy store raises for SQLite's "database is locked" (db/utils.py).
LOCKED = MlflowException(
    sqlalchemy.exc.OperationalError("INSERT", {}, sqlite3.OperationalError("database is locked")),
    error_code=TEMPORARILY_UNAVAILABLE,
)


@pytest.mark.parametrize(
    ("exc", "transient"),
    [
        (REFUSED, True),
        (requests.ConnectionError("reset"), True),
        (ConnectionResetError(), True),
        (http_error(503), True),
        (http_error(502), True),
        (http_error(429), True),
        (LOCKED, True),  # a SQLite store busy past MLflow's 20 s busy_timeout
        (http_error(401), False),
        (http_error(404), False),
        (MlflowException("no such run", error_code=RESOURCE_DOES_NOT_EXIST), False),
        (MlflowException("bad param", error_code=INVALID_PARAMETER_VALUE), False),
        (MlflowException("a store's own error"), False),  # INTERNAL_ERROR, but no HTTP reply
        (ValueError("a bug"), False),
    ],
)
def test_is_transient(exc, transient):
    assert is_transient(exc) is transient


@pytest.mark.parametrize(
    ("uri", "shown"),
    [
        ("http://alice:s3cret@mlflow.example:5000", "http://***@mlflow.example:5000"),
        ("https://token@mlflow.example/", "https://***@mlflow.example/"),
        ("http://127.0.0.1:5000", "http://127.0.0.1:5000"),
        ("sqlite:///mlflow.db", "sqlite:///mlflow.db"),
    ],
)
def test_redact_hides_credentials_in_uris(uri, shown):
    assert redact(uri) == shown


def test_auth_errors_name_the_variables_but_never_their_values(monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "alice")
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", "s3cret")
    monkeypatch.delenv("MLFLOW_TRACKING_TOKEN", raising=False)
    problem = auth_problem(http_error(401), "http://127.0.0.1:5000")
    assert isinstance(problem, EnvironmentProblem)
    text = str(problem)
    assert text.startswith("tracking.uri=http://127.0.0.1:5000: the MLflow server refused")
    assert "MLFLOW_TRACKING_PASSWORD" in text and "MLFLOW_TRACKING_TOKEN" in text
    assert "alice" not in text and "s3cret" not in text
    assert "403 Forbidden" in str(auth_problem(http_error(403), "http://h"))
    assert auth_problem(http_error(404), "http://h") is None
    assert credentials_in_use({}) == "none of them is set"


def flaky(failures, exc):
    """A call that fails `failures` times with `exc`, then returns "ok"."""
    calls = []

    def call():
        calls.append(1)
        if len(calls) <= failures:
            raise exc
        return "ok"

    return call, calls


def test_policy_retries_an_outage_shorter_than_its_budget():
    call, calls = flaky(2, REFUSED)
    policy = RetryPolicy("http://h", budget_s=5, first_wait_s=0.01)
    assert policy.call(call) == "ok" and len(calls) == 3 and not policy.gone


def test_policy_gives_up_after_its_budget_and_then_fails_at_once():
    call, calls = flaky(10**6, REFUSED)
    policy = RetryPolicy("http://h", budget_s=0.2, first_wait_s=0.02, max_wait_s=0.05)
    with pytest.raises(TrackingUnavailable, match=r"tracking.uri=http://h: .*connection refused"):
        policy.call(call)
    assert policy.gone and len(calls) > 2
    before = len(calls)
    with pytest.raises(TrackingUnavailable, match="did not answer earlier"):
        policy.call(call)
    assert len(calls) == before  # no new attempt once the server is known to be gone


@pytest.mark.parametrize("exc", [http_error(401), ValueError("a bug")])
def test_policy_never_retries_auth_errors_or_bugs(exc):
    call, calls = flaky(1, exc)
    with pytest.raises((EnvironmentProblem, ValueError)):
        RetryPolicy("http://h", budget_s=5, first_wait_s=0.01).call(call)
    assert len(calls) == 1


def test_resumable_error_says_which_sweep_to_resume():
    error = RetryPolicy("http://h", budget_s=0).unavailable("connection refused").resumable("abc")
    assert "sweep.resume=abc" in str(error) and "finished trials are on the server" in str(error)
