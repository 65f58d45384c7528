"""A tracking server that asks for credentials (`mlflow server --app-name basic-auth`): a wrong
password stops the sweep within seconds with one clear error, a right one logs runs and
artifacts, a user without permission gets a clear 403, and no credential is ever printed."""

from __future__ import annotations

import secrets
import subprocess
import sys
import time
from pathlib import Path

import pytest
from mlflow.server.auth.client import AuthServiceClient
from mlflow.tracking import MlflowClient

from sweep.errors import EnvironmentProblem
from sweep.tracking.runs import Tracker
from tests.conftest import QUICK
from tests.services import env_with_bin, mlflow_server
from tests.test_tracking_server import server_config

pytestmark = pytest.mark.slow
ADMIN, PASSWORD = "admin", "right-horse-battery-1"
READER, READER_PASSWORD = "reader", "reader-password-42"
WRONG = "wrong-password-7f3a"


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory):
    """A basic-auth server whose admin is ADMIN/PASSWORD and with a READ-only user READER."""
    folder = tmp_path_factory.mktemp("mlflow-auth")
    ini = folder / "basic_auth.ini"
    ini.write_text(
        "[mlflow]\n"
        "default_permission = READ\n"
        f"database_uri = sqlite:///{folder / 'basic_auth.db'}\n"
        f"admin_username = {ADMIN}\n"
        "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n"
        # Without it every request re-hashes the password (PBKDF2): ~3 s each on 2 busy cores.
        "auth_cache_ttl_seconds = 300\n"
    )
    env = env_with_bin(
        MLFLOW_AUTH_CONFIG_PATH=str(ini),
        MLFLOW_AUTH_ADMIN_PASSWORD=PASSWORD,
        MLFLOW_FLASK_SERVER_SECRET_KEY=secrets.token_hex(16),  # basic-auth's CSRF key
    )
    with mlflow_server(folder, None, None, "--app-name", "basic-auth", env=env) as url:
        yield url


@pytest.fixture
def as_user(monkeypatch):
    def login(username: str, password: str) -> None:
        monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", username)
        monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", password)

    return login


def test_wrong_password_fails_fast_with_one_clear_error(auth_server, tmp_path):
    env = env_with_bin(MLFLOW_TRACKING_USERNAME=ADMIN, MLFLOW_TRACKING_PASSWORD=WRONG)
    started = time.monotonic()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "sweep",
            *QUICK,
            "tracking=server",
            f"tracking.uri={auth_server}",
            f"hydra.run.dir={tmp_path}/out",
        ],  # fmt: skip
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    elapsed = time.monotonic() - started
    assert done.returncode == 2, done.stderr[-3000:]
    assert done.stderr.startswith(
        f"sweep: error: tracking.uri={auth_server}: the MLflow server refused the credentials "
        "(401 Unauthorized"
    ), done.stderr[-3000:]
    assert "MLFLOW_TRACKING_USERNAME" in done.stderr and "MLFLOW_TRACKING_PASSWORD" in done.stderr
    assert WRONG not in done.stdout + done.stderr and "Traceback" not in done.stderr
    assert elapsed < 60  # before Spark starts: no JVM, no data
    assert "jdk.incubator.vector" not in done.stderr  # Spark's JVM never started


def test_right_password_logs_runs_and_artifacts(auth_server, as_user):
    # What a sweep does, through the same Tracker: the full sweep on a server is proven in
    # test_tracking_server, so this stays cheap.
    as_user(ADMIN, PASSWORD)
    cfg = server_config(auth_server, *QUICK[2:])
    tracker = Tracker.connect(cfg.tracking)
    with tracker.parent("authorised") as parent_id, tracker.child(parent_id, 0) as child_id:
        tracker.log(child_id, params={"maxDepth": 3}, metrics={"accuracy": 0.5})
        tracker.log_text(child_id, "proxied with credentials", "note.txt")
    client = MlflowClient(auth_server)
    assert client.get_run(parent_id).info.status == "FINISHED"
    child = client.get_run(child_id)
    assert child.info.status == "FINISHED" and child.data.metrics == {"accuracy": 0.5}
    assert [a.path for a in client.list_artifacts(child_id)] == ["note.txt"]


def test_a_user_without_permission_gets_a_clear_403(auth_server, as_user):
    as_user(ADMIN, PASSWORD)
    users = AuthServiceClient(auth_server)
    users.create_user(READER, READER_PASSWORD)
    cfg = server_config(auth_server, *QUICK[2:])
    Tracker.connect(cfg.tracking)  # the experiment exists, made by the admin
    as_user(READER, READER_PASSWORD)
    tracker = Tracker.connect(cfg.tracking)  # reading is allowed (default_permission = READ)
    denied = r"denied this user permission \(403 Forbidden\)"
    with pytest.raises(EnvironmentProblem, match=denied), tracker.parent("no-permission"):
        pass


def test_credentials_in_the_uri_work_and_never_reach_mlflow_or_the_terminal(auth_server, tmp_path):
    """`http://user:password@host:port` (as the README allows): the reachability probe once read
    the credentials as part of the host name and said the server does not answer."""
    with_password = auth_server.replace("http://", f"http://{ADMIN}:{PASSWORD}@")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "sweep",
            *QUICK,
            "sweep.max_evals=1",
            "tracking=server",
            f"tracking.uri={with_password}",
            f"hydra.run.dir={tmp_path}/out",
        ],  # fmt: skip
        cwd=tmp_path,
        env=env_with_bin(),  # no MLFLOW_TRACKING_USERNAME/PASSWORD: only the URI has them
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert PASSWORD not in done.stdout + done.stderr
    assert "http://***@127.0.0.1" in done.stdout
    client = MlflowClient(with_password)
    [experiment] = [e for e in client.search_experiments() if e.name == "covtype-dtree"]
    [parent] = client.search_runs(
        [experiment.experiment_id], "tags.`sweep.role` = 'parent'", max_results=1
    )
    recorded = client.download_artifacts(parent.info.run_id, "config.yaml", str(tmp_path))
    text = Path(recorded).read_text()
    assert "uri: http://***@127.0.0.1" in text and PASSWORD not in text
    for run in client.search_runs([experiment.experiment_id]):
        assert PASSWORD not in str(run.data.params) + str(run.data.tags)
