"""Owns the data sources: where a sweep's rows come from and how they become the splits it fits on.

- `covtype`: the Covtype preset (`data=covtype` and its synthetic twin `data=synthetic`): the UCI
  file, downloaded or given, its one-hot or categorical encodings, the Parquet cache;
- `table` (reading) and `table_prepare` (the spec and the encoded splits): any table Spark reads
  (`data=table`).

`sweep.data.prepare.prepared` picks the source by `data.source` and hands the rest of the sweep one
`PreparedData` with the dataset spec, whatever the source.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

from sweep.errors import DataError


def existing_local(path: str, fix: str) -> Path | None:
    """The local file or folder `data.path` names, which must exist (DataError with `fix`
    otherwise); None for a path Spark reads itself (hdfs://, s3a://, …)."""
    scheme = urlparse(path).scheme
    if scheme not in ("", "file"):
        return None
    local = Path(urlparse(path).path if scheme else path).expanduser()
    if not local.exists():
        raise DataError(f"{local} does not exist", where="data.path", fix=fix)
    return local
