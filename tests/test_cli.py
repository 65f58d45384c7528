"""`python -m sweep` as a user runs it: a real subprocess, real exit codes, real output."""

import gzip
import socket
import time

import pytest

from tests.conftest import ROOT
from tests.helpers import all_runs
from tests.helpers import run_cli as sweep


def test_help_shows_experiments_keys_and_an_example(tmp_path):
    done = sweep("--help", cwd=tmp_path)
    assert done.returncode == 0
    for text in (
        "+experiment=NAME",
        "dtree, forest, smoke",
        "sweep.max_evals",
        "tracking.uri",
        "python -m sweep +experiment=dtree data.path=",
    ):
        assert text in done.stdout


@pytest.mark.slow
def test_smoke_experiment_runs_end_to_end(tmp_path, tracking_uri):
    done = sweep("+experiment=smoke", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Sweep finished: 4 of 4 trials succeeded" in done.stdout
    assert "ended by max_evals" in done.stdout
    assert f"mlflow ui --backend-store-uri {tracking_uri}" in done.stdout
    runs = all_runs(tracking_uri)
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    assert len(parents) == 1 and parents[0].info.status == "FINISHED"
    assert parents[0].info.run_id in done.stdout
    assert sum(r.data.tags.get("mlflow.parentRunId") == parents[0].info.run_id for r in runs) == 4
    assert not (ROOT / "outputs").exists() or (tmp_path / "outputs").exists()


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


BAD_INPUTS = [
    # (case id, overrides, expected message); every one fails before Spark starts.
    ("missing file", ["data=covtype", "data.path=/nonexistent/covtype.data.gz"], "does not exist"),
    ("directory", ["data=covtype", "data.path={tmp}"], "is not a file"),
    ("path with synthetic", ["data.path=/data/covtype.data.gz"], "data=synthetic generates"),
    ("max_evals 0", ["sweep.max_evals=0"], "sweep.max_evals: 0 is not valid"),
    ("max_evals negative", ["sweep.max_evals=-2"], "sweep.max_evals: -2 is not valid"),
    ("low > high", ["search.max_depth.low=20", "search.max_depth.high=10"], "greater than high"),
    ("unknown type", ["search.max_bins.type=normal"], "unknown type 'normal'"),
    ("unknown param", ["+search.depth={type:int,low:1,high:5}"], "unknown parameter 'depth'"),
    ("empty choice", ["search.impurity.values=[]"], "a choice needs at least one value"),
    ("max_depth 31", ["search.max_depth.high=31"], "search.max_depth.high: 31"),
    ("unknown experiment", ["+experiment=nope"], "Could not find 'experiment/nope'"),
    ("unknown key", ["sweep.max_eval=3"], "Could not override 'sweep.max_eval'"),
    ("bad master", ["spark.master=lokal"], "spark.master: 'lokal' is not a Spark master URL"),
    ("unwritable store", ["tracking.uri=sqlite:////proc/nope/mlflow.db"], "cannot write"),
    ("unreachable server", ["tracking.uri=http://127.0.0.1:{port}"], "does not answer"),
]


@pytest.mark.parametrize(
    ("overrides", "message"), [c[1:] for c in BAD_INPUTS], ids=[c[0] for c in BAD_INPUTS]
)
def test_bad_input_fails_fast_with_one_clear_message(tmp_path, tracking_uri, overrides, message):
    args = [
        o.replace("{tmp}", str(tmp_path)).replace("{port}", str(closed_port())) for o in overrides
    ]
    started = time.monotonic()
    done = sweep("+experiment=smoke", *args, cwd=tmp_path, timeout=120)
    assert done.returncode != 0
    assert message in done.stderr, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    assert time.monotonic() - started < 60
    assert all_runs(tracking_uri) == []  # nothing half-written


GOOD = "2596,51,3,258,0,510,221,232,148,6279,1,0,0,0," + "0," * 28 + "1," + "0," * 11 + "5"
FILE_CASES = [
    # (case id, file name, content, expected message); Spark reads these, so each takes ~20 s.
    ("truncated gzip", "covtype.data.gz", None, "cannot read"),
    ("54 fields", "covtype.data", GOOD.rsplit(",", 1)[0], "has 54 fields, expected 55"),
    ("non-integer", "covtype.data", GOOD.replace("2596", "2596.5"), "not an integer"),
    ("label 0", "covtype.data", GOOD[:-1] + "0", "has Cover_Type 0, expected 1..7"),
    ("label 8", "covtype.data", GOOD[:-1] + "8", "has Cover_Type 8, expected 1..7"),
    ("header line", "covtype.csv", ",".join(["Elevation"] * 55), "not an integer"),
    ("empty file", "covtype.data", "", "is empty"),
]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "content", "message"), [c[1:] for c in FILE_CASES], ids=[c[0] for c in FILE_CASES]
)
def test_bad_data_files_fail_cleanly_without_a_run(tmp_path, tracking_uri, name, content, message):
    path = tmp_path / name
    if content is None:  # a gzip cut in the middle
        with gzip.open(path, "wt") as f:
            f.write((GOOD + "\n") * 20000)
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    else:
        path.write_text(content + "\n" + (GOOD + "\n") * 3 if content else "")
    done = sweep("+experiment=smoke", "data=covtype", f"data.path={path}", cwd=tmp_path)
    assert done.returncode == 2, done.stderr[-2000:]
    assert message in done.stderr and "data.path" in done.stderr
    assert "Traceback" not in done.stderr
    assert all_runs(tracking_uri) == []
