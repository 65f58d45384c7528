"""Nothing a sweep writes on local disk holds a password given in tracking.uri."""

import socket

from tests.conftest import QUICK
from tests.helpers import run_cli

PASSWORD = "s3cret-in-the-uri"


def test_hydras_output_folder_never_holds_the_uris_password(tmp_path):
    with socket.socket() as s:  # a port nobody answers on: the sweep stops at its store probe
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = tmp_path / "out"
    done = run_cli(
        *QUICK,
        "tracking=server",
        f"tracking.uri=http://admin:{PASSWORD}@127.0.0.1:{port}",
        f"hydra.run.dir={out}",
        cwd=tmp_path,
        timeout=120,
    )
    assert done.returncode != 0 and "127.0.0.1" in done.stderr, done.stderr[-2000:]
    assert PASSWORD not in done.stdout + done.stderr
    written = [p for p in tmp_path.rglob("*") if p.is_file() and p.name != "mlflow.db"]
    assert out.is_dir() and written, "Hydra wrote nothing: the check below would prove nothing"
    holding = [str(p) for p in written if PASSWORD in p.read_text(errors="replace")]
    assert holding == []
