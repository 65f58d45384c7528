"""Part `tables` of the benchmark (issue 19): Covtype read as a table (`data=table`) against the
Covtype preset (`data=covtype`), same seed, same evals, one after the other on one machine.

Three sweeps of `--table-evals` evals (seed `--table-seed`) on `--table-data` (default: the 100k
sample beside --data):
  covtype   `data=covtype` on the UCI file (the preset: its strict reader, one-hot columns)
  onehot    the same rows written as a CSV.gz with a header, the 54 columns as they are and the
            label Cover_Type (1..7): `data=table data.label=Cover_Type`
  named     the same rows with the Wilderness and Soil one-hot groups turned into two text columns
            and the label into cover names (Spruce/Fir, …): categorical features, text labels
Then the table path's data preparation on the full file (--data): `prepare_seconds` of a one-trial
sweep on each table made from it, next to the preset's first (uncached) and cached preparation.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

CHEAP = ("search.max_depth.low=2", "search.max_depth.high=3", "sweep.max_evals=1")
QUIET = ("tracking.log_models=none", "registry.enabled=false")
WILDERNESS_NAMES = ["Rawah", "Neota", "Comanche Peak", "Cache la Poudre"]


def add_arguments(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--table-evals", type=int, default=10, help="tables: evals of each sweep")
    ap.add_argument("--table-seed", type=int, default=0, help="tables: the sweeps' seed")
    ap.add_argument(
        "--table-data", type=Path, help="tables: the file the sweeps read (default: the sample)"
    )


def write_tables(source: Path, folder: Path) -> dict[str, Path]:
    """The UCI file → `onehot.csv.gz` (header, the 55 columns) and `named.csv.gz` (two text
    groups, text labels). Kept in `folder` for the next run."""
    from sweep.data import covtype

    folder.mkdir(parents=True, exist_ok=True)
    paths = {"onehot": folder / "onehot.csv.gz", "named": folder / "named.csv.gz"}
    if all(p.exists() for p in paths.values()):
        return paths
    frame = pd.read_csv(source, header=None, names=covtype.COLUMNS)
    frame.to_csv(paths["onehot"], index=False)
    named = frame[covtype.NUMERIC].copy()
    wilderness = frame[covtype.WILDERNESS].to_numpy().argmax(axis=1)
    soil = frame[covtype.SOIL].to_numpy().argmax(axis=1)
    named["Wilderness"] = np.array(WILDERNESS_NAMES)[wilderness]
    named["Soil"] = [f"soil type {k + 1}" for k in soil]
    named["Cover"] = frame[covtype.LABEL].map(covtype.CLASS_NAMES)
    named.to_csv(paths["named"], index=False)
    return paths


def tables(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    from bench.benchmark import cli_sweep

    sample = args.table_data or args.data.parent / "covtype-sample100k.data.gz"
    made = write_tables(sample, work / "tables-sample")
    common = ("+experiment=dtree", f"sweep.seed={args.table_seed}",
              f"sweep.max_evals={args.table_evals}", *QUIET)  # fmt: skip
    sweeps = {
        "covtype": cli_sweep(work / "t-covtype", False, *common, f"data.path={sample}",
                             f"data.cache_dir={work / 't-cache'}", "data.parquet_cache=false"),
        "onehot": cli_sweep(work / "t-onehot", False, *common, "data=table",
                            f"data.path={made['onehot']}", "data.label=Cover_Type"),
        "named": cli_sweep(work / "t-named", False, *common, "data=table",
                           f"data.path={made['named']}", "data.label=Cover"),
    }  # fmt: skip
    full = write_tables(args.data, work / "tables-full")
    prep = {
        "covtype_first": cli_sweep(work / "p-covtype", False, "+experiment=dtree", *CHEAP, *QUIET,
                                   f"data.path={args.data}", f"data.cache_dir={work / 'p-cache'}"),
        "covtype_cached": cli_sweep(work / "p-covtype2", False, "+experiment=dtree", *CHEAP,
                                    *QUIET, f"data.path={args.data}",
                                    f"data.cache_dir={work / 'p-cache'}"),
        "table_onehot": cli_sweep(work / "p-onehot", False, "+experiment=dtree", *CHEAP, *QUIET,
                                  "data=table", f"data.path={full['onehot']}",
                                  "data.label=Cover_Type"),
        "table_named": cli_sweep(work / "p-named", False, "+experiment=dtree", *CHEAP, *QUIET,
                                 "data=table", f"data.path={full['named']}", "data.label=Cover"),
    }  # fmt: skip
    return {"data": str(sample), "full": str(args.data), "evals": args.table_evals,
            "seed": args.table_seed, "sweeps": sweeps, "prep": prep}  # fmt: skip
