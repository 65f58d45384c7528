"""Owns creating a SQLite tracking store safely when several processes open it at once.

MLflow creates and migrates a SQLite store the first time a client opens it, without a lock. Two
sweeps started together on a new file both run the migrations: one dies (`duplicate column name:
step`), or both do and the file stays half-migrated for good (`table _alembic_tmp_tags already
exists`); measured here with two bare clients, 3 attempts out of 3 broke.

So before any MLflow client opens a SQLite store, `ensure_schema` makes sure it is complete:
- a missing file is built under a private name and hard-linked into place, which is atomic and
  never replaces a file: everybody else sees no store or a complete one;
- a file that exists but is still being created by someone else (`mlflow ui` takes no lock) is
  waited for while it changes, then completed if nobody finished it;
- all of that under an exclusive lock on `.<name>.lock` beside the database, so sweeps take turns.
A complete store is recognised without the lock, so later opens cost one small read.
"""

from __future__ import annotations

import functools
import logging
import os
import sqlite3
import time
import uuid
from contextlib import suppress
from pathlib import Path

from filelock import FileLock

log = logging.getLogger(__name__)
QUIET_S = 3.0  # a store that did not change for this long is not being created by anyone


def ensure_schema(db: Path, wait_s: float = 120.0) -> None:
    """Make `db` a complete MLflow store. A store of an older schema is left as it is: MLflow
    then refuses it with its own advice (`mlflow db upgrade`), as it would without us."""
    if _revision(db) == _head():
        return
    with FileLock(db.with_name(f".{db.name}.lock")):  # flock on POSIX, msvcrt on Windows
        if not db.exists():
            _build_then_link(db)
        if _revision(db) != _head():
            _wait_while_changing(db, wait_s)
            if _revision(db) is None:  # never created, or its creator stopped before the end
                _complete(db)


def _build_then_link(db: Path) -> None:
    scratch = db.with_name(f".{db.name}.new-{uuid.uuid4().hex[:8]}")
    try:
        _complete(scratch)
        try:
            os.link(scratch, db)
            log.info("Created the MLflow store %s", db)
        except FileExistsError:  # someone without our lock (mlflow ui) created it meanwhile
            pass
    finally:
        for path in (scratch, Path(f"{scratch}-journal")):
            with suppress(FileNotFoundError):
                path.unlink()


def _complete(db: Path) -> None:
    """Create MLflow's tables in `db` when they are missing, as MLflow itself would on open."""
    import sqlalchemy
    from mlflow.store.db.utils import _all_tables_exist, _initialize_tables

    engine = sqlalchemy.create_engine(f"sqlite:///{db}")
    try:
        if not _all_tables_exist(engine):
            _initialize_tables(engine)
    finally:
        engine.dispose()


def _wait_while_changing(db: Path, wait_s: float) -> None:
    """Wait until `db` is current, or stops changing (nobody is creating it), or `wait_s`."""
    deadline = time.monotonic() + wait_s
    last, quiet_since = _fingerprint(db), time.monotonic()
    while time.monotonic() < deadline and _revision(db) != _head():
        time.sleep(0.2)
        now = _fingerprint(db)
        if now != last:
            last, quiet_since = now, time.monotonic()
        elif time.monotonic() - quiet_since > QUIET_S:
            return


def _fingerprint(db: Path) -> tuple:
    """What changes while another process writes the file (its size, time, journal)."""
    stats = []
    for path in (db, Path(f"{db}-journal"), Path(f"{db}-wal")):
        try:
            st = path.stat()
            stats.append((st.st_size, st.st_mtime_ns))
        except FileNotFoundError:
            stats.append(None)
    return tuple(stats)


def _revision(db: Path) -> str | None:
    """The schema revision recorded in `db`; None when missing, empty or unreadable."""
    if not db.is_file() or db.stat().st_size == 0:
        return None
    try:
        connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    except sqlite3.Error:
        return None
    try:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.Error:
        return None
    finally:
        connection.close()
    return row[0] if row else None


@functools.cache
def _head() -> str:
    from mlflow.store.db.utils import _get_latest_schema_revision

    return _get_latest_schema_revision()
