"""Where a run came from, in the terms MLflow's UI shows: the data it used (dataset inputs, one per
split, with the split as MLflow's context) and the code that ran it (MLflow's source tags).

Plain values only; `sweep.tracking` turns them into MLflow entities. `code_commit` is the one side
effect (a `git` call), run once per sweep.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from sweep.config import DataSettings
from sweep.data import covtype
from sweep.data.spec import DatasetSpec

CATALOG = "table:"  # a source read with spark.table: table:<name>
DATAFRAME = "dataframe:"  # a DataFrame handed to sweep.run: dataframe:<schema>, <rows> rows

# MLflow's own tag names (mlflow.utils.mlflow_tags), which the UI's Source column reads.
SOURCE_NAME = "mlflow.source.name"
SOURCE_TYPE = "mlflow.source.type"
SOURCE_COMMIT = "mlflow.source.git.commit"
ENTRY_POINT = "python -m sweep"
CONTEXT_TAG = "mlflow.data.context"  # MLflow's dataset input tag: train, validation, test


@dataclass(frozen=True)
class DataInput:
    """One split as an MLflow dataset: `name (digest)` in the UI's Dataset column, `context` as
    its badge; `source` and `profile` are JSON shown on the run page's Datasets panel."""

    name: str
    digest: str
    source_type: str
    source: str
    profile: str
    schema: str
    context: str


def data_inputs(
    source: str,
    sha256: str | None,
    counts: dict[str, int],
    cfg: DataSettings,
    spec: DatasetSpec | None = None,
) -> list[DataInput]:
    """The three splits of one prepared data set. A split's digest covers the file's sha256 and
    the split settings, so another seed or fraction is another dataset. A catalog table is a
    `spark_table` source, a DataFrame handed to `sweep.run` a `code` source."""
    generated = cfg.source == "synthetic" or source.startswith(DATAFRAME)
    if source.startswith(CATALOG):
        name, source_type = source.removeprefix(CATALOG), "spark_table"
        source_json = json.dumps({"table_name": name})
    elif generated:
        name = "synthetic-covtype" if cfg.source == "synthetic" else cfg.name
        source_type, source_json = "code", json.dumps({"tags": {"generator": source}})
    else:
        name = Path(urlparse(source).path).name or source
        scheme = urlparse(source).scheme
        source_type = "local" if scheme in ("", "file") else scheme
        source_json = json.dumps({"uri": source})
    schema = table_schema(spec) if spec is not None and spec.features else SCHEMA
    inputs = []
    for split, rows in counts.items():
        key = f"{sha256}|{cfg.seed}|{list(cfg.split)}|{split}"
        profile = {"split": split, "rows": rows, "file_sha256": sha256 or "unknown",
                   "split_seed": cfg.seed, "fractions": list(cfg.split)}  # fmt: skip
        inputs.append(
            DataInput(
                name=name,
                digest=hashlib.sha256(key.encode()).hexdigest()[:8],
                source_type=source_type,
                source=source_json,
                profile=json.dumps(profile),
                schema=schema,
                context=split,
            )
        )
    return inputs


# MLflow's column-spec schema of a split, as the UI's dataset panel lists it.
SCHEMA = json.dumps(
    {
        "mlflow_colspec": [
            *({"type": "long", "name": c, "required": True} for c in covtype.FEATURES),
            {"type": "long", "name": covtype.LABEL, "required": True},
        ]
    }
)


def table_schema(spec: DatasetSpec) -> str:
    """A table's columns as MLflow's column spec: the model's inputs, then the label."""
    names = {"bigint": "long", "int": "integer", "double": "double", "float": "float",
             "boolean": "boolean"}  # fmt: skip
    columns = [*spec.inputs, (spec.label, "label")]
    return json.dumps(
        {
            "mlflow_colspec": [
                {"type": names.get(t, "string"), "name": n, "required": False} for n, t in columns
            ]
        }
    )


def source_tags(commit: str | None, entry_point: str = ENTRY_POINT) -> dict[str, str]:
    """MLflow's source tags for a run started from this package (LOCAL, like a script)."""
    tags = {SOURCE_NAME: entry_point, SOURCE_TYPE: "LOCAL"}
    if commit:
        tags[SOURCE_COMMIT] = commit
    return tags


def code_commit() -> str | None:
    """The commit of the checkout this package runs from (not the working directory's), if any."""
    here = Path(__file__).resolve().parent
    try:
        done = subprocess.run(
            ["git", "-C", str(here), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def entry_point() -> str:
    """`python -m sweep` from the CLI; the calling program otherwise (a test, a notebook)."""
    main = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else ""
    return ENTRY_POINT if main in ("__main__.py", "sweep") else (main or "python")
