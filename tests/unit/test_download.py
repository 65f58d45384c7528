import functools
import hashlib
import http.server
import socket
import threading

import pytest

from sweep.data.download import fetch, sha256_of
from sweep.errors import DataError

PAYLOAD = b"2596,51,3\n" * 5000


@pytest.fixture
def http_root(tmp_path):
    """A real HTTP server on loopback serving tmp_path/www; yields its base URL."""
    root = tmp_path / "www"
    root.mkdir()
    (root / "covtype.data.gz").write_bytes(PAYLOAD)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def closed_port_url():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}/covtype.data.gz"


SHA = hashlib.sha256(PAYLOAD).hexdigest()


def test_downloads_once_verifies_and_then_uses_the_cache(http_root, tmp_path):
    cache = tmp_path / "cache"
    path = fetch([f"{http_root}/covtype.data.gz"], SHA, cache, "covtype.data.gz", progress=False)
    assert path == cache / "covtype.data.gz" and sha256_of(path) == SHA
    # The second call must not need the server: give it only an unreachable URL.
    again = fetch([closed_port_url()], SHA, cache, "covtype.data.gz", progress=False)
    assert again == path
    assert [p.name for p in cache.iterdir()] == ["covtype.data.gz"]


def test_falls_back_to_the_next_url(http_root, tmp_path):
    urls = [closed_port_url(), f"{http_root}/missing.gz", f"{http_root}/covtype.data.gz"]
    path = fetch(urls, SHA, tmp_path / "c", "covtype.data.gz", progress=False)
    assert path.read_bytes() == PAYLOAD


def test_checksum_mismatch_leaves_nothing_behind(http_root, tmp_path):
    cache = tmp_path / "cache"
    with pytest.raises(DataError, match=r"checksum mismatch.*data=synthetic"):
        fetch([f"{http_root}/covtype.data.gz"], "0" * 64, cache, "covtype.data.gz", progress=False)
    assert list(cache.iterdir()) == []


def test_a_corrupted_cache_file_is_downloaded_again(http_root, tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "covtype.data.gz").write_bytes(b"partial")
    path = fetch([f"{http_root}/covtype.data.gz"], SHA, cache, "covtype.data.gz", progress=False)
    assert path.read_bytes() == PAYLOAD


def test_offline_says_to_pass_data_path_or_use_synthetic(tmp_path):
    with pytest.raises(DataError) as info:
        fetch([closed_port_url()], SHA, tmp_path / "c", "covtype.data.gz", progress=False)
    message = str(info.value)
    assert "could not download covtype.data.gz" in message
    assert "data.path=" in message and "data=synthetic" in message
