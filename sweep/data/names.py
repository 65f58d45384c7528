"""Owns the name a table gives its experiment and registered model (`data.name`, through the
config resolver `${dataset_name:${data.path},${data.table}}`). Pure."""

from __future__ import annotations

# What a file's name ends with besides the table's own name (data.name: churn for churn.csv.gz)
NAME_SUFFIXES = {"csv", "tsv", "tab", "txt", "parquet", "pq", "json", "jsonl", "ndjson", "orc",
                 "gz", "bz2", "snappy", "zst", "data"}  # fmt: skip


def dataset_name(path: str | None, table: str | None) -> str:
    """The name a table gives its experiment and registered model: `churn` for churn.parquet,
    churn.csv.gz or a folder `churn/`, and for the catalog table `sales.churn`."""
    if table:
        return table.rsplit(".", 1)[-1]
    if not path:
        return "table"
    name = path.rstrip("/").rsplit("/", 1)[-1]
    while "." in name and name.rsplit(".", 1)[1].lower() in NAME_SUFFIXES:
        name = name.rsplit(".", 1)[0]
    return name or "table"
