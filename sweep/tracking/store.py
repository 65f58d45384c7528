"""Owns reaching a tracking store before any run is made: a store that cannot be reached or
written fails within seconds, before Spark starts; a new SQLite store is created safely
(`sweep.tracking.sqlite_store`); MLflow's own retries and per-run links are turned off for
servers, where `sweep.tracking.retry` is the one policy. Where a SQLite store keeps its artifacts
is decided here too.
"""

from __future__ import annotations

import logging
import os
import re
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlparse, urlunparse

from sweep.errors import EnvironmentProblem
from sweep.tracking import sqlite_store
from sweep.tracking.uri import redact

PROBE_TIMEOUT_S = 5.0


def prepare(uri: str) -> None:
    """Probe the store at `uri`; create a new SQLite one; set MLflow up for a server."""
    probe(uri)
    db = sqlite_path(uri)
    if db is not None:  # before MLflow opens it: MLflow's own creation is not concurrency-safe
        sqlite_store.ensure_schema(db)
        # MLflow logs a busy database's traceback before raising; the retry says it in a line.
        logging.getLogger("mlflow.store.db.utils").addFilter(_drop_busy_traceback)
    if urlparse(uri).scheme in ("http", "https"):
        # One retry policy, ours: MLflow's own (7 retries, up to ~4 min per call) would
        # multiply it. A value the user set wins.
        os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
        # MLflow prints a "View run" link per ended run (each trial); the summary has one.
        os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")


def probe(uri: str) -> None:
    """Fail within seconds, before Spark starts, when the store cannot be reached or written."""
    parsed = urlparse(uri)
    db = sqlite_path(uri)
    if db is not None:
        folder = db.parent
        if not folder.is_dir() or not os.access(folder, os.W_OK):
            raise EnvironmentProblem(
                f"cannot write the SQLite store {db}: {folder} is not a writable directory",
                where=f"tracking.uri={uri}",
                fix="Use a path in a writable folder, e.g. tracking.uri=sqlite:///mlflow.db",
            )
    elif parsed.scheme in ("http", "https"):
        # Without the user:password@ of the URI: urllib would read it as part of the host name.
        # /health needs no credentials; the first real call checks them.
        bare = urlunparse(parsed._replace(netloc=parsed.netloc.rpartition("@")[2]))
        try:
            urllib.request.urlopen(bare.rstrip("/") + "/health", timeout=PROBE_TIMEOUT_S).close()
        except urllib.error.HTTPError as exc:
            if exc.code not in (401, 403):  # it answers; credentials are checked by the first call
                raise EnvironmentProblem(
                    f"the MLflow server answers /health with {exc.code} {exc.reason}",
                    where=f"tracking.uri={redact(uri)}",
                    fix="Check that the URI points at an MLflow tracking server",
                ) from exc
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise EnvironmentProblem(
                f"the MLflow server does not answer ({reason})",
                where=f"tracking.uri={redact(uri)}",
                fix="Start the server (mlflow server ...) or fix the URI",
            ) from exc


def artifact_location(uri: str, experiment: str) -> str | None:
    """Keep a SQLite store's artifacts beside its database file, not in the current directory."""
    db = sqlite_path(uri)
    if db is None:
        return None
    return (db.parent / "mlruns" / re.sub(r"[^\w.-]+", "_", experiment)).as_uri()


def sqlite_path(uri: str) -> Path | None:
    """sqlite:///mlflow.db → ./mlflow.db, sqlite:////abs/mlflow.db → /abs/mlflow.db (resolved)."""
    prefix = "sqlite:///"
    return Path(uri[len(prefix) :]).expanduser().resolve() if uri.startswith(prefix) else None


def _drop_busy_traceback(record: logging.LogRecord) -> bool:
    return not str(record.msg).startswith("SQLAlchemy database error")
