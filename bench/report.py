"""The benchmark's JSON figures → docs/benchmarks.md. Pure: a dict in, markdown out."""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

TARGETS = {
    "overhead": "≤ 1.10",
    "naive": "≥ 3× faster",
    "tvs": "no slower, better best accuracy",
    "prep": "≥ 5× faster",
    "quality": "≥ 0.93 for each seed",
    "memory": "(reported)",
    "server_latency": "p50 ≤ 5 ms (≥ 30× lower)",
    "one_row": "≤ 0.2 ms",
    "export": "≤ 5 s",
    "ping": "≤ 10 s",
    "rows_100k": "≤ 1 s",
    "agreement": "all rows identical",
    "forest": "≥ 0.955",
    "warm_start": "warm ≥ cold",
    "halving": "within 0.002 of plain TPE, ≤ 1/3 of its time",
    "tables": "side by side (issue 19)",
    "curves": "within 0.002 of plain TPE, ≤ 1/4 of its time, every seed",
}


def render(r: dict[str, Any]) -> str:
    m = r.get("machine", {})
    lines = [
        "# Benchmarks",
        "",
        "Produced by `python bench/benchmark.py --data <covtype file>` "
        "(see docs/running-benchmarks.md); the raw figures are in "
        "[benchmarks.json](benchmarks.json). All ratios compare runs made by the same "
        "benchmark on the same machine.",
        "",
        f"- Machine: {m.get('cpu', '?')}, {m.get('cores', '?')} cores, "
        f"{m.get('memory_gib', '?')} GiB; {m.get('os', '?')}",
        f"- Software: Python {m.get('python', '?')}, {m.get('java', '?')}, PySpark "
        f"{m.get('pyspark', '?')}, MLflow {m.get('mlflow', '?')}; Spark `local[*]`",
        f"- Data: `{r.get('data', {}).get('path', '?')}` "
        f"({r.get('data', {}).get('bytes', 0) / 1e6:.1f} MB)",
        "",
        "## Summary",
        "",
        "| # | Figure | Measured | Target | Met |",
        "|---|---|---|---|---|",
        *_summary_rows(r),
        "",
    ]
    for name, section in (
        ("overhead", _overhead),
        ("naive", _naive),
        ("tvs", _tvs),
        ("prep", _prep),
        ("quality", _quality),
        ("knobs", _knobs),
        ("scoring", _scoring),
        ("forest", _forest),
        ("warm_start", _warm_start),
        ("halving", _halving),
        ("features", _features),
        ("tables", _tables),
        ("curves", _curves),
    ):
        if name in r:
            lines += section(r)
            lines += [f"_Part `{name}`: commit {r[name]['commit']}, {r[name]['started']} → "
                      f"{r[name]['ended']}._", ""]  # fmt: skip
    if r.get("notes"):
        lines += ["## Notes", "", *(f"- {note}" for note in r["notes"]), ""]
    return "\n".join(lines) + "\n"


def _summary_rows(r: dict[str, Any]) -> list[str]:
    rows = []

    def row(n: int, figure: str, measured: str, key: str, met: bool | None) -> None:
        verdict = "–" if met is None else ("yes" if met else "**no**")
        rows.append(f"| {n} | {figure} | {measured} | {TARGETS[key]} | {verdict} |")

    if "overhead" in r:
        o = r["overhead"]
        loop = o.get("loop_ratio", o["ratio"])  # the trial loop, issue 12's figure
        shown = f"trial loop {loop:.3f}, whole sweep {o['ratio']:.3f}"
        row(1, "Runner overhead", shown, "overhead", loop <= 1.10)
    else:
        row(1, "Runner overhead", "not run", "overhead", None)
    if "naive" in r and "overhead" in r:
        speedup = r["naive"]["seconds"] / r["overhead"]["sweep_seconds"]
        row(
            2,
            f"vs the naive loop ({len(r['naive']['trials'])} configurations)",
            f"{speedup:.1f}× faster ({r['naive']['seconds']:.0f} s vs "
            f"{r['overhead']['sweep_seconds']:.0f} s)",
            "naive",
            speedup >= 3,
        )
    else:
        row(2, "vs the naive loop", "not run", "naive", None)
    if "tvs" in r and "overhead" in r:
        t, o = r["tvs"], r["overhead"]
        faster = t["seconds"] / o["sweep_seconds"]
        better = o["best_validation_accuracy"] > t["best_validation_accuracy"]
        row(
            3,
            "vs TrainValidationSplit + autolog",
            f"{faster:.2f}× its speed ({o['sweep_seconds']:.0f} s vs {t['seconds']:.0f} s); best "
            f"accuracy {o['best_validation_accuracy']:.4f} vs {t['best_validation_accuracy']:.4f}",
            "tvs",
            faster >= 1 and better,
        )
    else:
        row(3, "vs TrainValidationSplit + autolog", "not run", "tvs", None)
    if "prep" in r:
        p = r["prep"]
        ratio = p["first"]["prepare_seconds"] / p["second"]["prepare_seconds"]
        row(
            4,
            "Data preparation, first vs cached",
            f"{ratio:.1f}× ({p['first']['prepare_seconds']:.1f} s → "
            f"{p['second']['prepare_seconds']:.1f} s)",
            "prep",
            ratio >= 5,
        )
    else:
        row(4, "Data preparation, first vs cached", "not run", "prep", None)
    if "quality" in r:
        q = r["quality"]["runs"]
        accs = ", ".join(f"seed {x['seed']}: {x['best_validation_accuracy']:.4f}" for x in q)
        row(5, f"Best validation accuracy, {r['quality']['evals']} evals", accs, "quality",
            all(x["best_validation_accuracy"] >= 0.93 for x in q))  # fmt: skip
        peak = max(x["peak_rss_mb"] for x in q)
        row(6, "Peak resident memory, driver + JVM", f"{peak / 1024:.2f} GiB", "memory", None)
    else:
        row(5, "Best validation accuracy", "not run", "quality", None)
        row(6, "Peak resident memory", "not run", "memory", None)
    if "scoring" in r:
        _scoring_rows(r["scoring"], row)
    if "forest" in r:
        f = r["forest"]["runs"]
        accs = ", ".join(
            f"seed {x['seed']}: {x['best_validation_accuracy']:.4f} "
            f"in {x['process_seconds'] / 60:.0f} min"
            for x in f
        )
        row(13, f"Random forest, best validation accuracy, {r['forest']['evals']} evals", accs,
            "forest", all(x["best_validation_accuracy"] >= 0.955 for x in f))  # fmt: skip
    if "warm_start" in r:
        w = r["warm_start"]
        cold, warm = w["cold"]["best_validation_accuracy"], w["warm"]["best_validation_accuracy"]
        row(14, f"Warm start from the 100k sample, best validation accuracy, {w['evals']} evals",
            f"warm {warm:.4f} vs cold {cold:.4f}", "warm_start", warm >= cold)  # fmt: skip
    if "halving" in r:
        h = r["halving"]["runs"]
        figures = "; ".join(
            f"seed {x['seed']}: {x['gap']:+.4f} in {x['time_ratio']:.2f}× the time" for x in h
        )
        row(15, f"Halving ({r['halving']['halving_evals']} configurations) vs plain TPE "
            f"({r['halving']['plain_evals']} evals)", figures, "halving",
            all(x["met"] for x in h))  # fmt: skip
    if "tables" in r:
        t, p = r["tables"]["sweeps"], r["tables"]["prep"]
        accs = ", ".join(f"{k} {x['best_validation_accuracy']:.4f}" for k, x in t.items())
        preps = ", ".join(f"{k} {x['prepare_seconds']:.0f} s" for k, x in p.items())
        figure = (
            f"Covtype as a table, best validation accuracy ({r['tables']['evals']} evals, 100k "
            "sample); preparation of the full file"
        )
        row(16, figure, f"{accs}; {preps}", "tables", None)
    if "curves" in r:
        c = r["curves"]
        for number, design in enumerate(c["designs"], start=17):
            ran = [x for x in c["runs"] if design in x]
            figures = "; ".join(
                f"seed {x['seed']}: " + _reach(x[f"{design}_vs_plain"]) for x in ran
            )
            met = all(x[f"{design}_vs_plain"]["met"] for x in ran)
            title = f"Validation curves ({c['designs'][design]}) vs plain TPE ({c['evals']} evals)"
            row(number, title, figures, "curves", met)
    return rows


def _reach(v: dict[str, Any]) -> str:
    if v["seconds_share"] is None:
        return f"not within 0.002 (gap {v['gap']:+.4f})"
    return f"within 0.002 at {v['seconds_share']:.2f}× plain's time (gap {v['gap']:+.4f})"


def _curves(r: dict[str, Any]) -> list[str]:
    c = r["curves"]
    lines = [
        "## 12. Validation curves (issue 21)",
        "",
        f"Per seed, `python -m sweep +experiment=dtree data.path=… sweep.max_evals={c['evals']} "
        "sweep.curves.enabled=false` (plain TPE, as before) against sweeps with curves: "
        + "; ".join(f"**{d}** `{o}`" for d, o in c["designs"].items())
        + " (`top`: fit at the top of the depth range, the trial's result its best depth; "
        "`proposed`: fit at TPE's depth, the shallower depths free), each with `sweep.timeout_s` "
        "= a third of plain TPE's search seconds, each a fresh process"
        + (f", all with {' '.join(c['overrides'])}" if c["overrides"] else "")
        + ". Seconds are since the parent run started (data prepared), from the parent's stepped "
        "best-so-far metric; observations are the TPE points the fits gave (each fit's own and "
        f"the rest of its depth curve). Best so far against seconds in [{c['figure']}]"
        f"({c['figure']}). Every seed runs plain TPE and the default (`top`); the other designs "
        f"the first seed only. Faster to the target on the first seed: **{c['faster_design']}**.",
        "",
        "| seed | search | best | fits | observations | search s | s to within 0.002 | share "
        "of plain's s | met |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for x in c["runs"]:
        p = x["plain"]
        lines.append(
            f"| {x['seed']} | plain TPE | {p['best_validation_accuracy']:.4f} | {p['fits']} | "
            f"{p['observations']} | {p['search_seconds']:.0f} | – | 1 | – |"
        )
        for design in [d for d in c["designs"] if d in x]:
            f, v = x[design], x[f"{design}_vs_plain"]
            reach = "never" if v["seconds_to_target"] is None else f"{v['seconds_to_target']:.0f}"
            share = "–" if v["seconds_share"] is None else f"{v['seconds_share']:.2f}"
            lines.append(
                f"| {x['seed']} | {design} | {f['best_validation_accuracy']:.4f} | "
                f"{f['fits']} | {f['observations']} | {f['search_seconds']:.0f} | {reach} | "
                f"{share} | {'yes' if v['met'] else '**no**'} |"
            )
    return [*lines, ""]


def _scoring_rows(s: dict[str, Any], row: Any) -> None:
    """Summary rows 7-12: the JVM-free scorer (issue 13); `row` appends to the summary."""
    free, spark = s["servers"]["jvm_free"], s["servers"]["spark"]
    lower = spark["median_ms"] / free["median_ms"]
    row(7, "Server, one row: JVM-free vs Spark pyfunc",
        f"p50 {free['median_ms']:.2f} ms, p99 {free['p99_ms']:.2f} ms vs p50 "
        f"{spark['median_ms']:.0f} ms, p99 {spark['p99_ms']:.0f} ms ({lower:.0f}× lower)",
        "server_latency", free["median_ms"] <= 5 and lower >= 30)  # fmt: skip
    one = s["in_process"]["one_row_pyfunc_impl_ms"]
    row(8, "In-process, one row (the pyfunc's predict)", f"{one:.3f} ms", "one_row", one <= 0.2)
    export = s["log"]["export_seconds"]
    row(9, f"Export of a full-data depth-30 tree ({s['log']['nodes']:,} nodes)",
        f"{export:.2f} s", "export", export <= 5)  # fmt: skip
    row(10, "Seconds until /ping answers: JVM-free vs Spark",
        f"{free['ping_seconds']:.1f} s vs {spark['ping_seconds']:.1f} s", "ping",
        free["ping_seconds"] <= 10)  # fmt: skip
    many = s["in_process"]["rows_100k_pyfunc_impl_ms"] / 1000
    row(11, "In-process, 100,000 rows", f"{many:.2f} s", "rows_100k", many <= 1)
    a = s["agreement"]
    same = a["identical"] == a["rows"]
    row(12, "Same prediction as Spark, full-data test split",
        f"{a['identical']:,} of {a['rows']:,} rows", "agreement", same)  # fmt: skip


def _scoring(r: dict[str, Any]) -> list[str]:
    s = r["scoring"]
    t, lg, ip, a = s["tree"], s["log"], s["in_process"], s["agreement"]
    free, spark = s["servers"]["jvm_free"], s["servers"]["spark"]
    params = ", ".join(f"{k} {v}" for k, v in s["params"].items())
    return [
        "## 7. Scoring without Spark",
        "",
        f"One tree fitted on the full training split as a sweep's trial fits it ({params}; "
        f"{t['nodes']:,} nodes, depth {t['depth']}, fit {t['fit_seconds']:.0f} s), logged twice "
        "in one run of `bench/scoring.py`: by `mlflow.spark.log_model` as before issue 13 (the "
        "Spark pyfunc), and by `Tracker.log_model` (Spark flavor + `trees.npz` + the JVM-free "
        "pyfunc).",
        "",
        "| | JVM-free pyfunc | Spark pyfunc |",
        "|---|---|---|",
        f"| seconds until `/ping` answers | {free['ping_seconds']:.1f} | "
        f"{spark['ping_seconds']:.1f} |",
        f"| one-row request, p50 / p90 / p99 ms ({free['requests']} / {spark['requests']} "
        f"requests) | {free['median_ms']:.2f} / {free['p90_ms']:.2f} / {free['p99_ms']:.2f} | "
        f"{spark['median_ms']:.0f} / {spark['p90_ms']:.0f} / {spark['p99_ms']:.0f} |",
        f"| first request ms | {free['first_ms']:.1f} | {spark['first_ms']:.0f} |",
        f"| `log_model` seconds (whole call) | {lg['log_model_seconds']:.1f} | "
        f"{lg['spark_log_model_seconds']:.1f} |",
        "",
        f"- Export (read Spark's node Parquet, write `trees.npz`, {lg['trees_npz_bytes'] / 1e6:.2f}"
        f" MB): **{lg['export_seconds']:.2f} s**; inside `log_model`, whose total the table shows "
        "(the input example is now validated against the NumPy scorer instead of a Spark model).",
        f"- Agreement with Spark's `transform` on the whole test split: **{a['identical']:,} of "
        f"{a['rows']:,}** predictions identical.",
        f"- In-process, one row: the scorer on a NumPy row {ip['one_row_scorer_ms']:.3f} ms; "
        f"the pyfunc's `predict` on a one-row DataFrame {ip['one_row_pyfunc_impl_ms']:.3f} ms; "
        f"through `mlflow.pyfunc`'s wrapper (schema checks of 54 columns) "
        f"{ip['one_row_mlflow_pyfunc_ms']:.2f} ms; MLflow's scoring-server handler for the same "
        f"one-row JSON request, without HTTP, {ip['one_row_server_handler_ms']:.2f} ms (its "
        "parsing, a cast per column and the schema checks: nearly all of a request's time).",
        f"- In-process, 100,000 rows: scorer {ip['rows_100k_scorer_ms']:.0f} ms, pyfunc `predict` "
        f"{ip['rows_100k_pyfunc_impl_ms']:.0f} ms, through `mlflow.pyfunc` "
        f"{ip['rows_100k_mlflow_pyfunc_ms']:.0f} ms.",
        "- Servers: `mlflow models serve --env-manager local`, one at a time, Spark stopped; the "
        "JVM-free one with no `java` on PATH and no JAVA_HOME. Latency is the client's wall time "
        "for one-row `dataframe_split` requests on loopback, one after another, the first not "
        "counted.",
        "",
    ]


def _overhead(r: dict[str, Any]) -> list[str]:
    o = r["overhead"]
    rounds = o.get("rounds", [o])
    lines = [
        "## 1. Runner overhead",
        "",
        f"A {o['evals']}-eval sweep (`+experiment=dtree`, seed 0, through `sweep.runner.run_sweep`"
        " in the benchmark's process after one untimed warm-up fit, data read from the Parquet"
        " cache), then the same configurations fitted and evaluated bare (same prepared data, "
        f"same code, no MLflow), alternated {len(rounds)} time(s) in one Spark session "
        "(`bench/overhead.py`). Whole sweep: (sweep − data preparation) / bare; trial loop: first "
        "child's start to last child's end / bare. The figures are the medians of the rounds.",
        "",
        "| round | sweep s | preparation s | trial loop s | sweep fit+eval s | bare fit+eval s "
        "| whole-sweep ratio | trial-loop ratio | per-trial s outside fit (median, max) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for i, d in enumerate(rounds):
        outside = d.get("outside_fit_seconds") or [float("nan")]
        lines.append(
            f"| {i} | {d['sweep_seconds']:.1f} | {d['prepare_seconds']:.1f} | "
            f"{d.get('loop_seconds', float('nan')):.1f} | "
            f"{d.get('sweep_fit_eval_seconds', float('nan')):.1f} | "
            f"{d['bare_fit_eval_seconds']:.1f} | {d['ratio']:.3f} | "
            f"{d.get('loop_ratio', float('nan')):.3f} | "
            f"{statistics.median(outside):.2f}, {max(outside):.2f} |"
        )
    lines += [
        "",
        f"Median whole-sweep ratio **{o['ratio']:.3f}**, trial-loop ratio "
        f"**{o.get('loop_ratio', float('nan')):.3f}** (target ≤ 1.10). The median round's trials:",
        "",
        "| maxDepth | maxBins | impurity | sweep fit s | sweep eval s | bare fit s | bare eval s "
        "| accuracy |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for t in o["trials"]:
        p = t["params"]
        lines.append(
            f"| {p.get('maxDepth')} | {p.get('maxBins')} | {p.get('impurity')} | "
            f"{t['sweep_fit_seconds']:.1f} | {t['sweep_eval_seconds']:.1f} | "
            f"{t['fit_seconds']:.1f} | {t['eval_seconds']:.1f} | {t['accuracy']:.4f} |"
        )
    return [*lines, ""]


def _naive(r: dict[str, Any]) -> list[str]:
    n = r["naive"]
    keys = ("read_seconds", "fit_seconds", "eval_seconds", "log_seconds")
    sums = {k: sum(t[k] for t in n["trials"]) for k in keys}
    lines = [
        "## 2. Against the naive loop",
        "",
        f"The seed's loop over the same {len(n['trials'])} configurations: per trial, read the "
        "file with `inferSchema`, fit the whole Pipeline (VectorAssembler + tree), one "
        "`MulticlassClassificationEvaluator` per metric (4), `mlflow.spark.log_model` with "
        f"inferred requirements. Total {n['seconds']:.1f} s: read {sums['read_seconds']:.1f} s, "
        f"fit {sums['fit_seconds']:.1f} s, evaluation {sums['eval_seconds']:.1f} s, logging "
        f"{sums['log_seconds']:.1f} s.",
    ]
    if "overhead" in r:
        o = r["overhead"]
        lines.append(
            f"`sweep` ran the same configurations in {o['sweep_seconds']:.1f} s "
            f"(**{n['seconds'] / o['sweep_seconds']:.1f}×** faster)."
        )
    return [*lines, ""]


def _tvs(r: dict[str, Any]) -> list[str]:
    t = r["tvs"]
    grid = " × ".join(f"{k} {v}" for k, v in t["grid"].items())
    best = max(t["points"], key=lambda p: p["accuracy"])
    lines = [
        "## 3. Against Spark's own tuning",
        "",
        f"`TrainValidationSplit` over `ParamGridBuilder` ({grid}: {len(t['points'])} points, "
        "maxBins left at Spark's 32) on the same 90% of the data (trainRatio 8/9, so 80/10 as "
        "the sweep), `mlflow.pyspark.ml.autolog()` on, then its refit of the best on all 90%: "
        f"{t['seconds']:.1f} s, best validation accuracy {t['best_validation_accuracy']:.4f} "
        f"({', '.join(f'{k}={v}' for k, v in best.items() if k != 'accuracy')}). Its validation "
        "rows are its own random 1/9, not the sweep's validation split.",
    ]
    if "overhead" in r:
        o = r["overhead"]
        lines.append(
            f"`sweep` with the same budget of {o['evals']} evaluations: {o['sweep_seconds']:.1f} s,"
            f" best validation accuracy {o['best_validation_accuracy']:.4f}."
        )
    return [*lines, ""]


def _prep(r: dict[str, Any]) -> list[str]:
    p = r["prep"]
    pairs = p.get("pairs", [])
    lines = [
        "## 4. Data preparation",
        "",
        "Two `python -m sweep` processes on the same file with one cheap trial each and a new, "
        "shared `data.cache_dir`: the first parses the .gz, splits and stores the splits as "
        "Parquet; the second reads them. `prepare_seconds` is the runner's own timing of the "
        "data step (process start and Spark start not included)."
        + (f" {len(pairs)} such pairs, one after the other; the median pair:" if pairs else ""),
        "",
        "| run | prepare s | whole process s |",
        "|---|---|---|",
        *(
            f"| {name} | {x['prepare_seconds']:.1f} | {x['process_seconds']:.1f} |"
            for name, x in p.items()
            if isinstance(x, dict) and "prepare_seconds" in x
        ),
        "",
    ]
    if pairs:
        lines += [
            "| pair | first s | cached s | ratio |",
            "|---|---|---|---|",
            *(
                f"| {i} | {x['first']:.1f} | {x['second']:.1f} | {x['ratio']:.2f} |"
                for i, x in enumerate(pairs)
            ),
            "",
        ]
    return lines


def _quality(r: dict[str, Any]) -> list[str]:
    q = r["quality"]
    lines = [
        "## 5. Quality and 6. memory",
        "",
        f"`python -m sweep +experiment=dtree data.path=… sweep.max_evals={q['evals']} "
        "sweep.seed=S`, one process per seed; peak resident memory is the sum over the process "
        "tree (Python driver, JVM, Python workers), polled every 0.5 s.",
        "",
        *_seed_table(q["runs"]),
    ]
    notes = [
        f"- seed {x['seed']}: commit {x.get('commit', '?')}, started {x.get('started', '?')}"
        + (f"; {x['note']}" if x.get("note") else "")
        for x in q["runs"]
    ]
    return [*lines, "", *notes, *([""] if notes else [])]


def _forest(r: dict[str, Any]) -> list[str]:
    f = r["forest"]
    lines = [
        "## 8. Random forests",
        "",
        f"`python -m sweep +experiment=forest data.path=… sweep.max_evals={f['evals']} "
        "sweep.seed=S` (sweep/conf/search/forest.yaml: 10-30 trees of depth 20-30), "
        "one process per seed; process seconds include the data preparation.",
        "",
        *_seed_table(f["runs"]),
    ]
    return [*lines, ""]


def _warm_start(r: dict[str, Any]) -> list[str]:
    w = r["warm_start"]
    lines = [
        "## 9. Warm start",
        "",
        f"A {w['evals']}-eval dtree sweep (seed {w['seed']}) on this data, warm-started "
        f"(`sweep.warm_start=<id>`) from a {w['prior_evals']}-eval sweep on `{w['prior_data']}`, "
        "against the same sweep started cold; one process each, one SQLite store. The cold sweep "
        "ran first and parsed the file; the warm one read the Parquet cache, so search seconds "
        "(process minus preparation) are the comparable time.",
        "",
        "| sweep | prior trials | best validation accuracy | test accuracy | best params | "
        "process s | search s |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in ("prior", "cold", "warm"):
        x = w[name]
        params = ", ".join(f"{k}={v}" for k, v in x["best_params"].items())
        lines.append(
            f"| {name} | {x.get('warm_start_trials', 0)} | {x['best_validation_accuracy']:.4f} | "
            f"{x['test_accuracy']:.4f} | {params} | {x['process_seconds']:.0f} | "
            f"{x['process_seconds'] - x['prepare_seconds']:.0f} |"
        )
    return [*lines, ""]


def _halving(r: dict[str, Any]) -> list[str]:
    h = r["halving"]
    lines = [
        "## 10. Successive halving over the training fraction",
        "",
        f"Per seed, `python -m sweep +experiment=dtree data.path=… sweep.max_evals="
        f"{h['plain_evals']}` (plain TPE) against the same with `sweep.scheduler=halving "
        f"sweep.max_evals={h['halving_evals']} sweep.fidelity.min_fraction={h['min_fraction']} "
        f"sweep.fidelity.eta={h['eta']}`, each a fresh process"
        + (f", both with {' '.join(h['overrides'])}" if h["overrides"] else "")
        + ". Times are process seconds (Spark start, data, search, the winner's test and "
        f"model); best-so-far against seconds in [{h['figure']}]({h['figure']}).",
        "",
        "| seed | plain best | halving best | gap | plain s | halving s | ratio | fits "
        "(plain / halving) | halving s to within 0.002 | met |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for x in h["runs"]:
        p, f, reach = x["plain"], x["halving"], x["halving_seconds_to_within_gap"]
        lines.append(
            f"| {x['seed']} | {p['best_validation_accuracy']:.4f} | "
            f"{f['best_validation_accuracy']:.4f} | {x['gap']:+.4f} | {p['process_seconds']:.0f} "
            f"| {f['process_seconds']:.0f} | {x['time_ratio']:.2f} | {x['fits']['plain']} / "
            f"{x['fits']['halving']} | {'never' if reach is None else f'{reach:.0f}'} | "
            f"{'yes' if x['met'] else '**no**'} |"
        )
    return [*lines, ""]


def _seed_table(runs: list[dict[str, Any]]) -> list[str]:
    """One row per CLI sweep (a seed): its accuracies, best params, time and peak memory."""
    lines = [
        "| seed | best validation accuracy | test accuracy | best params | process s | "
        "prepare s | peak RSS GiB |",
        "|---|---|---|---|---|---|---|",
    ]
    for x in runs:
        params = ", ".join(f"{k}={v}" for k, v in x["best_params"].items())
        lines.append(
            f"| {x['seed']} | {x['best_validation_accuracy']:.4f} | {x['test_accuracy']:.4f} | "
            f"{params} | {x['process_seconds']:.0f} | {x['prepare_seconds']:.1f} | "
            f"{x['peak_rss_mb'] / 1024:.2f} |"
        )
    return lines


def _knobs(r: dict[str, Any]) -> list[str]:
    k = r["knobs"]
    params = ", ".join(f"{a}={b}" for a, b in k["params"].items())
    return [
        "## Tree settings (the defaults' evidence)",
        "",
        f"One fit each ({params}) on the prepared full training split:",
        "",
        "| maxMemoryInMB | cacheNodeIds | fit s | accuracy |",
        "|---|---|---|---|",
        *(
            f"| {f['maxMemoryInMB']} | {f['cacheNodeIds']} | {f['fit_seconds']:.1f} | "
            f"{f['accuracy']:.4f} |"
            for f in k["fits"]
        ),
        "",
    ]


def _features(r: dict[str, Any]) -> list[str]:
    lines = [
        "## 11. Categorical features",  # main has 9 (warm start) and 10 (halving)
        "",
        "`data.features=onehot` (54 features) against `data.features=categorical` (10 numeric, "
        "wilderness as one categorical feature of 4 values, soil one of 40): each tree fitted once "
        "per encoding on the same split, as a sweep's trial fits it (`run_trial`, the fixed tree "
        "settings of `model.*`), one encoding right after the other; accuracy on the validation "
        "split. A categorical tree needs maxBins of at least 40 (the soil types), so where the "
        "configuration has fewer it gets 40 (marked →40).",
        "",
    ]
    for name, run in r["features"]["by_data"].items():
        rows = run.get("rows", {})
        commits = sorted({f.get("commit", run.get("commit", "?")) for f in run["fits"]})
        lines += [
            f"`{name}` ({rows.get('train', 0):,} training and {rows.get('validation', 0):,} "
            f"validation rows; commit {', '.join(commits)}):",
            "",
            "| maxDepth | maxBins | impurity | one-hot fit s | one-hot accuracy "
            "| categorical fit s | categorical accuracy | nodes one-hot / categorical |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for x in sorted(run["fits"], key=lambda f: (f["maxDepth"], f["maxBins"], f["impurity"])):
            o, c = x["onehot"], x["categorical"]
            bins = f"{x['maxBins']}" + (f" →{c['maxBins']}" if c["maxBins"] != x["maxBins"] else "")
            lines.append(
                f"| {x['maxDepth']} | {bins} | {x['impurity']} | {o['fit_seconds']:.1f} | "
                f"{o['accuracy']:.4f} | {c['fit_seconds']:.1f} | {c['accuracy']:.4f} | "
                f"{o['num_nodes']:,} / {c['num_nodes']:,} |"
            )
        lines.append("")
    if r["features"].get("note"):
        lines += [r["features"]["note"], ""]
    return lines


def _tables(r: dict[str, Any]) -> list[str]:
    t = r["tables"]
    names = {
        "covtype": "`data=covtype` (the preset: UCI file, 54 one-hot columns)",
        "onehot": "`data=table`, CSV.gz with a header: the 54 columns as they are",
        "named": "`data=table`, CSV.gz: Wilderness and Soil as two text columns, cover names",
    }
    lines = [
        "## Covtype as a table (issue 19)",
        "",
        f"The same rows (`{Path(t['data']).name}`) as the preset and as two tables of its own, "
        f"each swept with `+experiment=dtree`, {t['evals']} evals, seed {t['seed']}, one after "
        "the other; `prepare s` is the runner's own timing of the data step.",
        "",
        "| data | best validation accuracy | test accuracy | prepare s | whole process s |",
        "|---|---|---|---|---|",
        *(
            f"| {names[k]} | {s['best_validation_accuracy']:.4f} | {s['test_accuracy']:.4f} "
            f"| {s['prepare_seconds']:.1f} | {s['process_seconds']:.1f} |"
            for k, s in t["sweeps"].items()
        ),
        "",
        f"Data preparation on the full file (`{Path(t['full']).name}`), one cheap trial each:",
        "",
        "| data | prepare s | whole process s |",
        "|---|---|---|",
        *(
            f"| {k} | {p['prepare_seconds']:.1f} | {p['process_seconds']:.1f} |"
            for k, p in t["prep"].items()
        ),
        "",
    ]
    return lines
