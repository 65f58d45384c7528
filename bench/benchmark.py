"""The full-data benchmark of issue 5: sweep against the alternatives, in one process tree.

    python bench/benchmark.py --data ../shared/data/covtype/covtype-full.data.gz

Parts (all by default; `--parts` runs some and keeps the others' earlier results in the JSON):
  quality   `python -m sweep +experiment=dtree` with 30 evals for seeds 0, 1, 2 (subprocesses);
            best validation accuracy, and the peak resident memory of the process tree
            (driver + JVM) of each sweep
  prep      data preparation of a sweep on a new file vs the second (cached) sweep: two fresh
            CLI processes with one cheap trial each, timed by the runner's prepare_seconds
  knobs     one fit (depth 20, 300 bins, entropy) per tree setting: maxMemoryInMB, cacheNodeIds
  overhead  a 10-eval sweep (in this process, the real runner) vs bare fit + evaluation of the
            same 10 configurations on the same prepared data, alternated twice (bench/overhead.py)
  naive     the seed's loop for the same 10 configurations: per trial read with inferSchema,
            fit the whole Pipeline, one evaluator per metric, log_model with inferred requirements
  tvs       Spark's TrainValidationSplit over a 10-point ParamGridBuilder grid, with
            mlflow.pyspark.ml.autolog
  forest    `python -m sweep +experiment=forest` (issue 11) for each --forest-seeds seed with
            --forest-evals evals; best validation accuracy, wall time and peak memory
  warm_start  a --warm-evals full-data dtree sweep warm-started (sweep.warm_start) from a
            --warm-prior-evals sweep on the 100k sample (--warm-prior), against a cold sweep with
            the same evals and seed; best validation accuracy and wall time of each; one SQLite
            store for the three, so the warm sweep finds its prior
  halving   plain TPE (--evals, 30) against sweep.scheduler=halving (--halving-evals
            configurations) for each --seeds seed (bench/halving.py): best validation accuracy,
            wall time, best-so-far against seconds for both, drawn into docs/halving.png; reuses
            part quality's sweeps from the same --work
  features  data.features=onehot vs categorical (issue 12, part 3): the issue's six tree
            configurations, plus its reference one (30/300/entropy), fitted on each encoding of
            the same split; validation accuracy and fit seconds side by side. A categorical tree
            needs maxBins >= 40 (the soil types), so it gets max(bins, 40)
  curves    plain TPE without validation curves (--evals) against sweep.curves.fit=top and
            =proposed for each --seeds seed (bench/curves.py): time to within 0.002 of plain
            TPE's best, fits and TPE observations, best-so-far against seconds in docs/curves.png
  scoring   the JVM-free scorer (issue 13) against the Spark pyfunc on a full-data depth-30
            tree: export cost, agreement on the test split, in-process and server latency,
            seconds to /ping (bench/scoring.py)

Writes <report>.json (raw figures, per part: commit, start, end) and <report>.md. Not run in CI.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.curves import curves  # noqa: E402
from bench.halving import add_arguments as halving_arguments  # noqa: E402
from bench.halving import halving  # noqa: E402
from bench.overhead import overhead  # noqa: E402
from bench.report import render  # noqa: E402
from bench.scoring import scoring  # noqa: E402
from bench.tables import add_arguments as tables_arguments  # noqa: E402
from bench.tables import tables  # noqa: E402

SEEDS = (0, 1, 2)
QUALITY_EVALS = 30
COMPARE_EVALS = 10
FOREST_EVALS = 10  # sweep/conf/experiment/forest.yaml's
WARM_EVALS = 10  # the full-data sweeps of part warm_start, cold and warm
WARM_PRIOR_EVALS = 25  # the prior on the 100k sample: sweep/conf/experiment/dtree.yaml's
WARM_SEED = 0
SAMPLE_NAME = "covtype-sample100k.data.gz"  # beside --data, as in ../shared/data/covtype/
TVS_IMPURITIES = ["gini", "entropy"]  # × compare_evals / 2 depths from 6 to 30: a grid as large
WARM_UP = {"maxDepth": 5, "maxBins": 32, "impurity": "gini"}
KNOB_PARAMS = {"maxDepth": 20, "maxBins": 300, "impurity": "entropy"}
FEATURE_CONFIGS = [  # issue 12's six (maxDepth, maxBins, impurity), then its reference one
    (10, 32, "gini"), (15, 200, "entropy"), (20, 64, "entropy"), (25, 300, "gini"),
    (30, 32, "gini"), (30, 139, "entropy"), (30, 300, "entropy"),
]  # fmt: skip
KNOBS = [  # cacheNodeIds made no difference in an earlier measurement (PITFALLS.md)
    {"maxMemoryInMB": 256, "cacheNodeIds": False},
    {"maxMemoryInMB": 1024, "cacheNodeIds": False},
]


def main(argv: list[str] | None = None) -> int:
    parts: dict[str, Callable[[argparse.Namespace, Path], dict[str, Any]]] = {
        "quality": quality,
        "prep": prep,
        "knobs": knobs,
        "overhead": overhead,
        "naive": naive,
        "tvs": tvs,
        "scoring": scoring,
        "forest": forest,
        "warm_start": warm_start,
        "halving": halving,
        "features": features,
        "tables": tables,
        "curves": curves,
    }
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--data", required=True, type=Path, help="a Covtype file (.data.gz)")
    ap.add_argument("--parts", nargs="+", choices=list(parts), default=list(parts))
    ap.add_argument("--report", type=Path, default=ROOT / "docs" / "benchmarks")
    ap.add_argument("--work", type=Path, help="scratch folder (default: a new temporary one)")
    ap.add_argument("--seeds", type=int, nargs="+", default=list(SEEDS), help="quality seeds")
    ap.add_argument("--evals", type=int, default=QUALITY_EVALS, help="quality evals per seed")
    ap.add_argument(
        "--compare-evals", type=int, default=COMPARE_EVALS, help="overhead/naive configurations"
    )
    ap.add_argument(
        "--prep-repeats", type=int, default=3, help="prep: pairs of first and cached preparation"
    )
    ap.add_argument("--forest-seeds", type=int, nargs="+", default=[0], help="forest seeds")
    ap.add_argument("--forest-evals", type=int, default=FOREST_EVALS, help="forest evals per seed")
    ap.add_argument(
        "--warm-prior",
        type=Path,
        help=f"warm_start's prior data (default: {SAMPLE_NAME} beside --data)",
    )
    ap.add_argument("--warm-evals", type=int, default=WARM_EVALS, help="warm_start: evals of each")
    ap.add_argument(
        "--warm-prior-evals", type=int, default=WARM_PRIOR_EVALS, help="warm_start: prior's evals"
    )
    halving_arguments(ap)
    tables_arguments(ap)
    ap.add_argument(
        "--feature-configs",
        nargs="+",
        default=[f"{d}/{b}/{i}" for d, b, i in FEATURE_CONFIGS],
        help="features part: maxDepth/maxBins/impurity configurations (default: the issue's)",
    )
    args = ap.parse_args(argv)
    args.data = args.data.resolve()
    if not args.data.is_file():
        ap.error(f"--data: {args.data} is not a file")
    args.warm_prior = (args.warm_prior or args.data.parent / SAMPLE_NAME).resolve()
    if "warm_start" in args.parts and not args.warm_prior.is_file():
        ap.error(f"--warm-prior: {args.warm_prior} is not a file")
    json_path = args.report.with_suffix(".json")
    results = json.loads(json_path.read_text()) if json_path.exists() else {}
    results["machine"] = machine()
    results["data"] = {"path": args.data.name, "bytes": args.data.stat().st_size}
    work = args.work or Path(tempfile.mkdtemp(prefix="sweep-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    for name in args.parts:
        started = datetime.now(UTC).isoformat(timespec="seconds")
        commit = git_commit()
        print(f"[bench] {name} at {commit} ...", flush=True)
        figures = parts[name](args, work / name)
        results[name] = {
            "commit": commit,
            "started": started,
            "ended": datetime.now(UTC).isoformat(timespec="seconds"),
            **figures,
        }
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(results, indent=2) + "\n")
        args.report.with_suffix(".md").write_text(render(results))
        print(f"[bench] {name}: {json.dumps(figures)[:400]}", flush=True)
    return 0


# -- parts that run the CLI ------------------------------------------------------------------------


def quality(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    runs = []
    for seed in args.seeds:
        run = cli_sweep(
            work / f"seed{seed}",
            True,  # a seed finished by an earlier, interrupted benchmark is kept
            "+experiment=dtree",
            f"data.path={args.data}",
            f"sweep.max_evals={args.evals}",
            f"sweep.seed={seed}",
            f"data.cache_dir={work / 'cache'}",  # seed 0 parses the file, 1 and 2 read the cache
        )
        runs.append({"seed": seed, **run})
    return {"evals": args.evals, "runs": runs}


def forest(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    runs = []
    for seed in args.forest_seeds:
        run = cli_sweep(
            work / f"seed{seed}",
            True,
            "+experiment=forest",
            f"data.path={args.data}",
            f"sweep.max_evals={args.forest_evals}",
            f"sweep.seed={seed}",
            f"data.cache_dir={work / 'cache'}",
        )
        runs.append({"seed": seed, **run})
    return {"evals": args.forest_evals, "runs": runs}


def warm_start(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """The prior on the sample, then the cold and the warm sweep on --data, in one store. The
    cold sweep runs first and parses --data; the warm one reads the Parquet cache, so compare
    their search seconds (process minus preparation) as well as their process seconds."""
    store = work / "mlflow.db"
    common = ("+experiment=dtree", f"sweep.seed={WARM_SEED}", f"data.cache_dir={work / 'cache'}")
    prior = cli_sweep(
        work / "prior",
        True,
        *common,
        f"data.path={args.warm_prior}",
        f"sweep.max_evals={args.warm_prior_evals}",
        store=store,
    )
    full = (*common, f"data.path={args.data}", f"sweep.max_evals={args.warm_evals}")
    cold = cli_sweep(work / "cold", True, *full, store=store)
    warm = cli_sweep(
        work / "warm", True, *full, f"sweep.warm_start={prior['parent_run_id']}", store=store
    )
    return {
        "evals": args.warm_evals,
        "prior_evals": args.warm_prior_evals,
        "seed": WARM_SEED,
        "prior_data": args.warm_prior.name,
        "prior": prior,
        "cold": cold,
        "warm": warm,
    }


def prep(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """`--prep-repeats` pairs of processes, each pair on a new cache folder: the first run
    parses and stores, the second reads the copy. The median pair's figures, and every pair's."""
    cheap = ("search.max_depth.low=2", "search.max_depth.high=3", "sweep.max_evals=1")
    pairs = []
    for repeat in range(args.prep_repeats):
        folder = work / f"pair{repeat}"
        runs = {}
        for name in ("first", "second"):  # the same new cache folder: the second finds the copy
            runs[name] = cli_sweep(
                folder / name,
                False,
                "+experiment=dtree",
                f"data.path={args.data}",
                f"data.cache_dir={folder / 'cache'}",
                "tracking.log_models=none",
                "registry.enabled=false",
                *cheap,
            )
        runs["ratio"] = runs["first"]["prepare_seconds"] / runs["second"]["prepare_seconds"]
        pairs.append(runs)
    middle = sorted(pairs, key=lambda r: r["ratio"])[(len(pairs) - 1) // 2]
    brief = [
        {k: pair[k]["prepare_seconds"] for k in ("first", "second")} | {"ratio": pair["ratio"]}
        for pair in pairs
    ]
    return {**middle, "pairs": brief}


def cli_sweep(
    work: Path, reuse: bool, *overrides: str, store: Path | None = None
) -> dict[str, Any]:
    """Run `python -m sweep` in a fresh process with its own SQLite store (or `store`, shared);
    its wall time, the peak resident memory of its process tree, and the parent run's figures
    (also kept in work/result.json, which `reuse` returns instead of running again)."""
    done = work / "result.json"
    if reuse and done.exists():
        return json.loads(done.read_text())
    work.mkdir(parents=True, exist_ok=True)
    uri = f"sqlite:///{store or work / 'mlflow.db'}"
    cmd = [sys.executable, "-m", "sweep", *overrides, f"tracking.uri={uri}"]
    cmd.append("sweep.progress_bar=false")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("MLFLOW_TRACKING_URI", None)
    commit, begun = git_commit(), datetime.now(UTC).isoformat(timespec="seconds")
    with open(work / "output.log", "w") as out:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=work, stdout=out, stderr=subprocess.STDOUT, env=env)
        with peak_rss(proc.pid) as peak:
            code = proc.wait()
        wall = time.perf_counter() - started
    if code != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({code}); see {work / 'output.log'}")
    result = {"commit": commit, "started": begun, **summarize(uri, list(overrides), wall, peak)}
    done.write_text(json.dumps(result, indent=2))
    return result


def summarize(uri: str, overrides: list[str], wall: float, peak: dict[str, Any]) -> dict[str, Any]:
    parent = parent_run(uri)
    metrics = parent.data.metrics
    return {
        "overrides": overrides,
        "parent_run_id": parent.info.run_id,
        "warm_start_trials": int(parent.data.params.get("warm_start_trials", 0)),
        "process_seconds": wall,
        "prepare_seconds": metrics["prepare_seconds"],
        "best_validation_accuracy": metrics["best_accuracy"],
        "test_accuracy": metrics["test_accuracy"],
        "best_params": {k[5:]: v for k, v in parent.data.params.items() if k.startswith("best_")},
        "trials_finished": int(metrics["trials_finished"]),
        "peak_rss_mb": peak["mb"],
        "peak_rss_parts_mb": peak["parts"],
    }


def parent_run(uri: str):
    from mlflow.tracking import MlflowClient

    client = MlflowClient(uri)
    experiments = [e.experiment_id for e in client.search_experiments()]
    # The newest: in a shared store (part warm_start), the sweep that just ran.
    return client.search_runs(
        experiments, "tags.`sweep.role` = 'parent'", order_by=["attributes.start_time DESC"]
    )[0]


@contextmanager
def peak_rss(pid: int, every: float = 0.5) -> Iterator[dict[str, Any]]:
    """Poll the summed VmRSS of `pid` and its descendants (driver, JVM, Python workers)."""
    peak: dict[str, Any] = {"mb": 0.0, "parts": {}}
    done = threading.Event()

    def poll() -> None:
        while not done.is_set():
            sizes = {p: rss_mb(p) for p in descendants(pid) | {pid}}
            total = sum(sizes.values())
            if total > peak["mb"]:
                peak["mb"] = total
                peak["parts"] = {process_name(p): round(mb, 1) for p, mb in sizes.items() if mb}
            done.wait(every)

    thread = threading.Thread(target=poll, daemon=True)
    thread.start()
    try:
        yield peak
    finally:
        done.set()
        thread.join()


def descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def process_name(pid: int) -> str:
    try:
        return f"{Path(f'/proc/{pid}/comm').read_text().strip()}[{pid}]"
    except OSError:
        return str(pid)


# -- parts that run in this process ----------------------------------------------------------------


@contextmanager
def session() -> Iterator[Any]:
    from sweep.config import SparkSettings
    from sweep.spark import spark_session

    with spark_session(SparkSettings()) as spark:  # the sweep's own defaults: local[*]
        yield spark


def compose(*overrides: str):
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    from sweep import config
    from sweep.config_checks import load_config

    config.register()
    with initialize_config_dir(config_dir=str(ROOT / "sweep" / "conf"), version_base="1.3"):
        return load_config(hydra_compose(config_name="config", overrides=list(overrides)))


def knobs(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    from dataclasses import replace

    from sweep.data.prepare import prepared
    from sweep.trial import run_trial

    cfg = compose("+experiment=dtree", f"data.path={args.data}", f"data.cache_dir={work}/cache")
    fits = []
    with session() as spark, prepared(spark, cfg.data, progress=False) as data:
        for knob in KNOBS:
            model = replace(
                cfg.model,
                max_memory_in_mb=knob["maxMemoryInMB"],
                cache_node_ids=knob["cacheNodeIds"],
            )
            result = run_trial(data.train, data.validation, KNOB_PARAMS, model)
            fits.append(
                {**knob, "fit_seconds": result.fit_seconds, "accuracy": result.metrics["accuracy"]}
            )
    return {"params": KNOB_PARAMS, "fits": fits}


def features(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """Each configuration fitted on both encodings of one split, one after the other (so a change
    of machine load hits both); one untimed small fit warms the JVM first. Figures are kept per
    data file, so a run on the sample and one on the full data both stay in the report."""
    from sweep.data.features import min_bins
    from sweep.data.prepare import prepared
    from sweep.trial import run_trial

    cfg = compose("+experiment=dtree", f"data.path={args.data}", f"data.cache_dir={work}/cache")
    fits, commit = [], git_commit()  # the code that fits, not the one when it ends
    with (
        session() as spark,
        prepared(spark, cfg.data, False, features="onehot") as onehot,
        prepared(spark, cfg.data, False, features="categorical") as categorical,
    ):
        if onehot.counts != categorical.counts:
            raise SystemExit(
                f"the encodings split differently: {onehot.counts} {categorical.counts}"
            )
        run_trial(onehot.train, onehot.validation, WARM_UP, cfg.model)
        for config in args.feature_configs:
            depth, bins, impurity = config.split("/")
            depth, bins = int(depth), int(bins)
            row: dict[str, Any] = {"maxDepth": depth, "maxBins": bins, "impurity": impurity}
            row["commit"] = commit
            for data in (onehot, categorical):
                used = max(bins, min_bins(data.features))
                params = {"maxDepth": depth, "maxBins": used, "impurity": impurity}
                t = run_trial(
                    data.train, data.validation, params, cfg.model, features=data.features
                )
                row[data.features] = {
                    "maxBins": used,
                    "fit_seconds": t.fit_seconds,
                    "accuracy": t.metrics["accuracy"],
                    "num_nodes": t.summary["num_nodes"],
                }
            print(f"[bench] features: {row}", flush=True)
            fits.append(row)
    json_path = args.report.with_suffix(".json")
    earlier = json.loads(json_path.read_text()).get("features", {}) if json_path.exists() else {}
    by_data = earlier.get("by_data", {})
    # A configuration measured before on the same file stays unless this run measured it again.
    measured = {(f["maxDepth"], f["maxBins"], f["impurity"]) for f in fits}
    kept = [
        f
        for f in by_data.get(args.data.name, {}).get("fits", [])
        if (f["maxDepth"], f["maxBins"], f["impurity"]) not in measured
    ]
    this = {"commit": commit, "rows": onehot.counts, "fits": kept + fits}
    return {"by_data": {**by_data, args.data.name: this}}


def _configs(work: Path) -> list[dict[str, Any]]:
    source = work.parent / "overhead" / "configs.json"
    if not source.exists():
        raise SystemExit(f"{source} is missing: run the overhead part first (same --work)")
    return json.loads(source.read_text())


def naive(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    import mlflow
    import mlflow.spark
    from pyspark.ml import Pipeline
    from pyspark.ml.classification import DecisionTreeClassifier
    from pyspark.ml.evaluation import MulticlassClassificationEvaluator
    from pyspark.ml.feature import VectorAssembler

    from sweep.data import covtype
    from sweep.records import METRICS

    work.mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(f"sqlite:///{work / 'mlflow.db'}")
    mlflow.set_experiment("naive")
    trials = []
    with session() as spark:
        started = time.perf_counter()
        with mlflow.start_run(run_name="naive-loop"):
            for params in _configs(work):
                t0 = time.perf_counter()
                df = spark.read.csv(str(args.data), inferSchema=True).toDF(*covtype.COLUMNS)
                train, validation, _ = df.randomSplit([0.8, 0.1, 0.1], seed=0)
                t1 = time.perf_counter()
                pipeline = Pipeline(
                    stages=[
                        VectorAssembler(inputCols=covtype.FEATURES, outputCol="features"),
                        DecisionTreeClassifier(labelCol=covtype.LABEL, seed=42, **params),
                    ]
                )
                model = pipeline.fit(train)
                t2 = time.perf_counter()
                predictions = model.transform(validation)
                metrics = {
                    m: MulticlassClassificationEvaluator(
                        labelCol=covtype.LABEL, metricName=m
                    ).evaluate(predictions)
                    for m in METRICS
                }
                t3 = time.perf_counter()
                with mlflow.start_run(nested=True):
                    mlflow.log_params(params)
                    mlflow.log_metrics(metrics)
                    mlflow.spark.log_model(model, "model")  # requirements inferred
                t4 = time.perf_counter()
                trials.append(
                    {
                        "params": params,
                        "read_seconds": t1 - t0,
                        "fit_seconds": t2 - t1,
                        "eval_seconds": t3 - t2,
                        "log_seconds": t4 - t3,
                        "accuracy": metrics["accuracy"],
                    }
                )
                print(f"[bench] naive trial: {trials[-1]}", flush=True)
        total = time.perf_counter() - started
    return {"seconds": total, "trials": trials}


def tvs(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    import mlflow
    import mlflow.pyspark.ml
    import numpy as np
    from pyspark.ml import Pipeline
    from pyspark.ml.classification import DecisionTreeClassifier
    from pyspark.ml.evaluation import MulticlassClassificationEvaluator
    from pyspark.ml.feature import VectorAssembler
    from pyspark.ml.tuning import ParamGridBuilder, TrainValidationSplit

    from sweep.data import covtype

    work.mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(f"sqlite:///{work / 'mlflow.db'}")
    mlflow.set_experiment("tvs")
    with session() as spark:
        started = time.perf_counter()
        mlflow.pyspark.ml.autolog()
        df = spark.read.csv(str(args.data), schema=covtype.SCHEMA)  # explicit schema: fair
        train_validation, _ = df.randomSplit([0.9, 0.1], seed=0)  # the same 80/10/10 shares
        tree = DecisionTreeClassifier(labelCol=covtype.LABEL, seed=42, maxMemoryInMB=1024)
        depths = np.linspace(6, 30, max(args.compare_evals // 2, 1)).round().astype(int)
        tvs_grid = {"maxDepth": depths.tolist(), "impurity": TVS_IMPURITIES}
        grid = ParamGridBuilder()
        for name, values in tvs_grid.items():
            grid = grid.addGrid(tree.getParam(name), values)
        search = TrainValidationSplit(
            estimator=Pipeline(
                stages=[VectorAssembler(inputCols=covtype.FEATURES, outputCol="features"), tree]
            ),
            estimatorParamMaps=grid.build(),
            evaluator=MulticlassClassificationEvaluator(
                labelCol=covtype.LABEL, metricName="accuracy"
            ),
            trainRatio=8 / 9,
            seed=0,
        )
        model = search.fit(train_validation)
        total = time.perf_counter() - started
        mlflow.pyspark.ml.autolog(disable=True)
        maps = search.getEstimatorParamMaps()
        points = [
            {p.name: v for p, v in m.items()} | {"accuracy": a}
            for m, a in zip(maps, model.validationMetrics, strict=True)
        ]
    return {
        "seconds": total,
        "grid": tvs_grid,
        "best_validation_accuracy": max(model.validationMetrics),
        "points": points,
    }


# -- the machine -----------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    import mlflow
    import pyspark

    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    java = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem_kb / 1024**2, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "java": java.splitlines()[0] if java else "unknown",
        "pyspark": pyspark.__version__,
        "mlflow": mlflow.__version__,
    }


def git_commit() -> str:
    done = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    )
    return done.stdout.strip() or "unknown"


if __name__ == "__main__":
    sys.exit(main())
