"""Several processes opening one new SQLite store at the same instant (real processes, real MLflow).

Without `ensure_schema`, two bare MlflowClients on a new file broke it 3 times out of 3 here.
"""

import subprocess
import sys
import time
from pathlib import Path

from mlflow.tracking import MlflowClient

from sweep.tracking.sqlite_store import _head, _revision, ensure_schema

OPEN_AT = """
import sys, time
from pathlib import Path
from mlflow.tracking import MlflowClient
db, start, name, guarded = Path(sys.argv[1]), float(sys.argv[2]), sys.argv[3], sys.argv[4] == "1"
if guarded:
    from sweep.tracking.sqlite_store import ensure_schema
time.sleep(max(0.0, start - time.time()))
if guarded:
    ensure_schema(db)
MlflowClient(f"sqlite:///{db}").create_experiment(name)
print("created", name)
"""


def _open_together(db: Path, guarded: list[bool]) -> list[subprocess.CompletedProcess]:
    start = time.time() + 6  # every interpreter has imported MLflow by then
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", OPEN_AT, str(db), str(start), f"e{i}", "1" if g else "0"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i, g in enumerate(guarded)
    ]
    return [subprocess.CompletedProcess(p.args, p.wait(120), *p.communicate()) for p in procs]


def test_processes_opening_a_new_store_at_once_all_succeed(tmp_path):
    folder = tmp_path / "store"
    folder.mkdir()
    db = folder / "new.db"
    # Three sweeps, and one unguarded opener standing for `mlflow ui`, which takes no lock.
    done = _open_together(db, [True, True, True, False])
    for proc in done:
        assert proc.returncode == 0, proc.stderr[-2000:]
    names = {e.name for e in MlflowClient(f"sqlite:///{db}").search_experiments()}
    assert {"e0", "e1", "e2", "e3"} <= names
    assert _revision(db) == _head()
    assert sorted(p.name for p in folder.iterdir()) == [".new.db.lock", "new.db"]  # no scratch


def test_a_complete_store_is_recognised_without_the_lock(tmp_path):
    db = tmp_path / "fresh.db"
    ensure_schema(db)
    lock = tmp_path / ".fresh.db.lock"
    lock.unlink()
    started = time.perf_counter()
    ensure_schema(db)
    assert time.perf_counter() - started < 1.0 and not lock.exists()


def test_an_empty_file_nobody_writes_becomes_a_store(tmp_path):
    db = tmp_path / "touched.db"
    db.touch()
    ensure_schema(db, wait_s=10)
    assert _revision(db) == _head()
    MlflowClient(f"sqlite:///{db}").create_experiment("works")
