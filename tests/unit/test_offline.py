"""Offline, the main command says so before Spark starts (it used to after ~20 s of Spark)."""

import socket

import pytest

from sweep.__main__ import _run
from sweep.errors import DataError


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens once it is closed: connections are refused


def test_an_unreachable_download_fails_before_spark_and_mlflow(compose_cfg, tmp_path):
    # The unit tier's check (conftest.py) fails this test if _run started a JVM or opened a store.
    cfg = compose_cfg(
        "data=covtype",
        f"data.urls=[http://127.0.0.1:{closed_port()}/covtype.data.gz]",
        f"data.cache_dir={tmp_path / 'cache'}",
    )
    with pytest.raises(DataError, match="could not download covtype.data.gz") as caught:
        _run(cfg)
    assert "data.path=" in str(caught.value)  # says what to do offline
