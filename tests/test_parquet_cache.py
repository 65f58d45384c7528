import gzip
import json
import re
import signal
import time

import pytest

from sweep.config import DataSettings
from sweep.data import covtype, parquet_cache
from sweep.data.prepare import prepared
from sweep.errors import DataError
from tests.conftest import FULL, QUICK
from tests.helpers import all_runs, start_cli
from tests.helpers import run_cli as sweep


def covtype_file(tmp_path, rows=1500, seed=1, bad_line=None):
    """A real Covtype-format .gz file (synthetic values, UCI column order, no header)."""
    frame = covtype.synthesize(rows, seed)
    lines = [",".join(map(str, r)) for r in frame.itertuples(index=False)]
    if bad_line:
        lines.insert(700, bad_line)
    path = tmp_path / "covtype.data.gz"
    with gzip.open(path, "wt") as f:
        f.write("\n".join(lines) + "\n")
    return path


def settings(path, tmp_path, **kw):
    return DataSettings(path=str(path), cache_dir=str(tmp_path / "cache"), **kw)


def snapshot(data):
    rows = {
        name: sorted((tuple(r["features"]), r["label"]) for r in df.collect())
        for name, df in (("train", data.train), ("validation", data.validation))
    }
    return rows, data.train.rdd.getNumPartitions()


def stored_files(tmp_path):
    return {p: p.stat().st_mtime_ns for p in (tmp_path / "cache").rglob("*.parquet")}


def test_second_run_reads_the_stored_splits_and_gets_the_same_data(spark, tmp_path):
    cfg = settings(covtype_file(tmp_path), tmp_path)
    with prepared(spark, cfg, progress=False) as first:
        target = parquet_cache.folder(cfg, first.sha256)
        assert parquet_cache.problem(target, parquet_cache.key(cfg, first.sha256)) is None
        assert first.cache == "stored"
        assert all(f.startswith(f"file://{target}/split=train") for f in first.train.inputFiles())
        before, stored = snapshot(first), stored_files(tmp_path)
    assert stored and not list(target.parent.glob("*.tmp-*"))
    with prepared(spark, cfg, progress=False) as second:
        assert second.cache == "read"
        assert snapshot(second) == before
        assert second.train.rdd.getNumPartitions() == cfg.partitions
    assert stored_files(tmp_path) == stored  # read, not rewritten
    uncached = settings(cfg.path, tmp_path, parquet_cache=False)
    with prepared(spark, uncached, progress=False) as plain:
        assert not any("cache" in f for f in plain.train.inputFiles())
        assert snapshot(plain)[0] == before[0]  # the same rows in the same splits


def test_other_split_settings_get_their_own_copy(spark, tmp_path):
    path = covtype_file(tmp_path)
    a, b = settings(path, tmp_path), settings(path, tmp_path, seed=7)
    with prepared(spark, a, progress=False) as one, prepared(spark, b, progress=False) as two:
        assert parquet_cache.folder(a, one.sha256) != parquet_cache.folder(b, two.sha256)
        assert snapshot(one)[0] != snapshot(two)[0]


def test_a_bad_file_leaves_nothing_in_the_cache(spark, tmp_path):
    cfg = settings(covtype_file(tmp_path, bad_line="1,2,3"), tmp_path)
    with (
        pytest.raises(DataError, match=r"data.path: 1 of 1,501 rows .* malformed"),
        prepared(spark, cfg, progress=False),
    ):
        pass
    assert not list((tmp_path / "cache").rglob("*.parquet"))


def test_an_empty_split_is_the_same_clear_error_with_the_cache(spark, tmp_path):
    cfg = settings(covtype_file(tmp_path, rows=40), tmp_path, split=[0.96, 0.02, 0.02])
    for _ in range(2):  # the run that stores the splits and the one that reads them
        with (
            pytest.raises(DataError, match=r"data.split: the (validation|test) split is empty"),
            prepared(spark, cfg, progress=False),
        ):
            pass


def _train_part(target):
    return max((target / "split=train").glob("*.parquet"), key=lambda p: p.stat().st_size)


def _truncate(path):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _same_size_fewer_rows(target):
    """A part file rewritten with the same size (a bad copy): only the row check can tell."""
    manifest = json.loads((target / parquet_cache.MANIFEST).read_text())
    manifest["rows"]["train"] += 1
    (target / parquet_cache.MANIFEST).write_text(json.dumps(manifest))


@pytest.mark.parametrize(
    ("damage", "why"),
    [
        (lambda t: _train_part(t).unlink(), r"split=train/part-.*\.parquet is missing"),
        (lambda t: _truncate(_train_part(t)), r"split=train/part-.*bytes, the manifest says"),
        (lambda t: (t / "split=train" / "stray.parquet").write_bytes(b"x"), "not in the manifest"),
        (lambda t: (t / parquet_cache.MANIFEST).unlink(), "manifest is missing or unreadable"),
        (_same_size_fewer_rows, r"Spark read \[\d+, \d+, \d+\] rows, its manifest says"),
    ],
)
def test_a_damaged_entry_is_never_trained_on_but_rebuilt_with_the_reason(
    spark, tmp_path, caplog, damage, why
):
    cfg = settings(covtype_file(tmp_path), tmp_path)
    with prepared(spark, cfg, progress=False) as first:
        target = parquet_cache.folder(cfg, first.sha256)
        counts, before = first.counts, snapshot(first)
    damage(target)
    with prepared(spark, cfg, progress=False) as second:
        assert re.match(f"rebuilt: .*{why}", second.cache), second.cache
        assert second.counts == counts and snapshot(second) == before
    assert re.search(f"cache entry .* is damaged .*{why}", caplog.text)
    assert parquet_cache.problem(target, parquet_cache.key(cfg, first.sha256)) is None
    assert sorted(p.name for p in target.parent.iterdir()) == [target.name]  # nothing left over


def test_an_entry_built_from_other_settings_is_not_used(spark, tmp_path):
    cfg = settings(covtype_file(tmp_path), tmp_path)
    with prepared(spark, cfg, progress=False) as first:
        target = parquet_cache.folder(cfg, first.sha256)
    other = parquet_cache.key(cfg, first.sha256) | {"seed": 99}
    assert "it was built from" in parquet_cache.problem(target, other)


@pytest.mark.slow
def test_the_cli_rebuilds_a_damaged_entry_and_the_parent_records_it(spark, tmp_path, tracking_uri):
    path = covtype_file(tmp_path, rows=3000)
    cfg = settings(path, tmp_path)
    with prepared(spark, cfg, progress=False) as first:  # the entry a first sweep would leave
        target, counts = parquet_cache.folder(cfg, first.sha256), first.counts
    _train_part(target).unlink()
    done = sweep(
        *QUICK, "sweep.max_evals=1", "data=covtype", f"data.path={path}",
        f"data.cache_dir={tmp_path / 'cache'}", cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert re.search(
        r"cache entry .* is damaged \(split=train/part-.* is missing\)", done.stdout + done.stderr
    )
    [parent] = [r for r in all_runs(tracking_uri) if r.data.tags.get("sweep.role") == "parent"]
    assert parent.data.tags["sweep.data_cache"].startswith("rebuilt: split=train/part-")
    assert int(parent.data.params["rows_train"]) == counts["train"]  # all of them, not a part


@pytest.mark.slow
def test_sigterm_during_a_first_preparation_leaves_no_entry_and_no_run(tmp_path, tracking_uri):
    """On the full Covtype data where it is available (the first preparation takes ~45 s),
    else on a 300,000-row file written here."""
    path = FULL if FULL.is_file() else covtype_file(tmp_path, rows=300_000)
    cache = tmp_path / "cache"
    process = start_cli(
        *QUICK, "data=covtype", f"data.path={path}", f"data.cache_dir={cache}",
        f"hydra.run.dir={tmp_path}/out", cwd=tmp_path,
    )  # fmt: skip
    deadline = time.monotonic() + 300
    while not list(cache.glob("parquet/*.tmp-*")):  # the write of the splits has begun
        assert process.poll() is None, process.stderr.read()[-3000:]
        assert time.monotonic() < deadline, "the preparation never started writing"
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 143, stderr[-3000:]
    assert "interrupted by SIGTERM before the search started" in stderr
    assert "Traceback" not in stderr
    assert list((cache / "parquet").iterdir()) == []  # no entry, no scratch folder
    assert all_runs(tracking_uri) == []  # the parent opens after the preparation
