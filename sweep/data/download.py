"""Fetch a file once into a cache directory, verified by sha256, with a progress bar (pooch:
it downloads to a temporary name and moves the file into place only once its hash matches, so an
interrupted or corrupted download never poses as the data set). Ours: the mirrors, tried in
order, and one error that says what to do offline."""

from __future__ import annotations

import logging
from pathlib import Path

import pooch
import requests

from sweep.errors import DataError

log = logging.getLogger(__name__)


def sha256_of(path: Path) -> str:
    return pooch.file_hash(str(path), alg="sha256")


def fetch(
    urls: list[str],
    sha256: str | None,
    cache_dir: Path,
    filename: str,
    timeout_s: float = 30.0,
    progress: bool = True,
) -> Path:
    """Return the cached file, downloading it from the first URL that answers when it is missing
    (or does not match `sha256`)."""
    target = cache_dir.expanduser() / filename
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(
            f"cannot create the cache directory {target.parent}: {exc.strerror}",
            where="data.cache_dir",
            fix="Point data.cache_dir at a writable folder",
        ) from exc
    downloader = pooch.HTTPDownloader(progressbar=progress, timeout=timeout_s)
    known = f"sha256:{sha256}" if sha256 else None
    failures = []
    for url in urls:
        try:
            return Path(pooch.retrieve(url, known, filename, target.parent, downloader=downloader))
        except (requests.RequestException, OSError, ValueError) as exc:
            reason = f"checksum mismatch: {exc}" if isinstance(exc, ValueError) else exc
            failures.append(f"{url} ({reason})")
            log.warning("Download from %s failed: %s", url, reason)
    raise DataError(
        f"could not download {filename}: " + "; ".join(failures),
        where="data.urls",
        fix="If this machine is offline, pass data.path=/path/to/covtype.data.gz or use "
        "data=synthetic",
    )
