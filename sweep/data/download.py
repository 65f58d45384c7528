"""Fetch a file once into a cache directory, verified by sha256, with a progress bar."""

from __future__ import annotations

import hashlib
import logging
import os
import urllib.error
import urllib.request
from pathlib import Path

from tqdm import tqdm

from sweep.errors import DataError

log = logging.getLogger(__name__)
CHUNK = 1 << 20


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch(
    urls: list[str],
    sha256: str | None,
    cache_dir: Path,
    filename: str,
    timeout_s: float = 30.0,
    progress: bool = True,
) -> Path:
    """Return the cached file, downloading it from the first URL that answers when it is missing.

    A download is written to a temporary name and renamed only once its checksum matches, so an
    interrupted or corrupted download never poses as the data set.
    """
    target = cache_dir.expanduser() / filename
    if target.is_file() and (sha256 is None or sha256_of(target) == sha256):
        log.info("Using cached %s", target)
        return target
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(
            f"cannot create the cache directory {target.parent}: {exc.strerror}",
            where="data.cache_dir",
            fix="Point data.cache_dir at a writable folder",
        ) from exc
    failures = []
    for url in urls:
        try:
            _download(url, target, sha256, timeout_s, progress)
            return target
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", None) or exc
            failures.append(f"{url} ({reason})")
            log.warning("Download from %s failed: %s", url, reason)
    raise DataError(
        f"could not download {filename}: " + "; ".join(failures),
        where="data.urls",
        fix="If this machine is offline, pass data.path=/path/to/covtype.data.gz or use "
        "data=synthetic",
    )


def _download(url: str, target: Path, sha256: str | None, timeout_s: float, progress: bool) -> None:
    partial = target.with_name(target.name + f".part{os.getpid()}")
    digest = hashlib.sha256()
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response, open(partial, "wb") as out:
            total = int(response.headers.get("Content-Length") or 0) or None
            with tqdm(
                total=total,
                unit="B",
                unit_scale=True,
                desc=f"Downloading {target.name}",
                disable=not progress,
            ) as bar:
                for block in iter(lambda: response.read(CHUNK), b""):
                    out.write(block)
                    digest.update(block)
                    bar.update(len(block))
        if sha256 is not None and digest.hexdigest() != sha256:
            raise ValueError(
                f"checksum mismatch: got sha256 {digest.hexdigest()}, expected {sha256}"
            )
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
