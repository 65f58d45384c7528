"""Real servers on loopback for the tests: an MLflow tracking server, PostgreSQL, a Spark standalone
master and worker. Each is a context manager that starts the process in its own process group,
waits until it answers, and kills the whole group on exit, even when the test failed.

The commands are the ones the README's "Running on a cluster" section shows.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent  # the virtualenv's bin: mlflow, uvicorn
PYSPARK_HOME = Path(__import__("pyspark").__file__).parent
IN_CI = os.environ.get("CI") == "true"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def missing(what: str, how: str) -> None:
    """An absent binary fails in CI (where .ci/run installs it) and skips, saying so, elsewhere."""
    message = f"{what} is not installed: {how}"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


def env_with_bin(**extra: str) -> dict[str, str]:
    return {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", **extra}


@contextmanager
def process(
    command: list[str],
    log_path: Path,
    ready: Callable[[], bool],
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 120,
    stop_signal: int = signal.SIGTERM,
) -> Iterator[subprocess.Popen]:
    """Run `command` in its own session until the block ends; `ready()` says when it answers."""
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=cwd,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + timeout
        while not ready():
            if proc.poll() is not None:
                pytest.fail(f"{command[0]} exited ({proc.returncode}): {tail(log_path)}")
            if time.monotonic() > deadline:
                pytest.fail(f"{command[0]} did not answer in {timeout:.0f} s: {tail(log_path)}")
            time.sleep(0.3)
        yield proc
    finally:
        stop(proc, stop_signal)


def stop(proc: subprocess.Popen, sig: int = signal.SIGTERM, grace: float = 20) -> None:
    """Signal the process group, then kill it if it lingers."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, sig)
        proc.wait(timeout=grace)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def tail(path: Path, chars: int = 3000) -> str:
    return path.read_text(errors="replace")[-chars:] if path.exists() else "(no log)"


def answers(url: str) -> Callable[[], bool]:
    def check() -> bool:
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return True
        except OSError:
            return False

    return check


def json_of(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


# --- MLflow tracking server ---------------------------------------------------------------


def mlflow_server_command(backend: str, artifacts: Path, port: int, *extra: str) -> list[str]:
    """`mlflow server` with proxied artifacts (clients see mlflow-artifacts:/ URIs)."""
    return [
        str(BIN / "mlflow"),
        "server",
        "--backend-store-uri",
        backend,
        "--artifacts-destination",
        str(artifacts),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
        *extra,
    ]


@contextmanager
def mlflow_server(
    folder: Path, backend: str | None = None, port: int | None = None, *extra: str, env=None
) -> Iterator[str]:
    """An `mlflow server` on loopback (SQLite in `folder` unless `backend` is given); its URL."""
    folder.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    backend = backend or f"sqlite:///{folder / 'mlflow.db'}"
    command = mlflow_server_command(backend, folder / "artifacts", port, *extra)
    url = f"http://127.0.0.1:{port}"
    with process(
        command,
        folder / "server.log",
        answers(f"{url}/health"),
        env=env or env_with_bin(),
        cwd=folder,
        timeout=180,
    ):
        yield url


@contextmanager
def models_serve(model_uri: str, tracking_uri: str, folder: Path) -> Iterator[str]:
    """`mlflow models serve -m <model_uri> --env-manager local` on loopback; its URL."""
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    command = [str(BIN / "mlflow"), "models", "serve", "-m", model_uri, "--env-manager", "local",
               "--host", "127.0.0.1", "-p", str(port)]  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    env = env_with_bin(MLFLOW_TRACKING_URI=tracking_uri)
    with process(command, folder / "serve.log", answers(f"{url}/ping"), env=env, timeout=180):
        yield url


# --- PostgreSQL -----------------------------------------------------------------------------


def postgres_bin() -> Path | None:
    """Debian keeps PostgreSQL's server binaries in /usr/lib/postgresql/<version>/bin."""
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(candidates[-1]).parent if candidates else None


def as_postgres_user(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: as root, run it as the `postgres` user."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@contextmanager
def postgres() -> Iterator[str]:
    """A throwaway PostgreSQL on a loopback port with trust auth; yields a SQLAlchemy URI of an
    empty database `mlflow`."""
    bindir = postgres_bin()
    if bindir is None:
        missing("PostgreSQL", "sudo apt-get install postgresql (.ci/run does)")
    # Not under pytest's tmp_path: its folders are private to root, and postgres runs as postgres.
    folder = Path(tempfile.mkdtemp(prefix="sweep-pg-"))
    data = folder / "data"
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    try:
        initdb = [str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
                  "-E", "UTF8", "--no-sync"]  # fmt: skip
        subprocess.run(as_postgres_user(initdb), check=True, capture_output=True)
        port = free_port()
        server = [str(bindir / "postgres"), "-D", str(data), "-h", "127.0.0.1", "-p", str(port),
                  "-k", str(folder), "-c", "fsync=off"]  # fmt: skip
        command = as_postgres_user(server)
        ready_check = [str(bindir / "pg_isready"), "-h", "127.0.0.1", "-p", str(port)]

        def ready() -> bool:
            return subprocess.run(ready_check, capture_output=True).returncode == 0

        # SIGINT is PostgreSQL's fast shutdown (SIGTERM waits for clients to leave).
        with process(command, folder / "postgres.log", ready, stop_signal=signal.SIGINT):
            createdb = [str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port)]
            subprocess.run([*createdb, "-U", "postgres", "mlflow"], check=True, capture_output=True)
            yield f"postgresql://postgres@127.0.0.1:{port}/mlflow"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# --- Spark standalone ---------------------------------------------------------------------


def spark_class(main_class: str, *args: str) -> list[str]:
    """PySpark's own launcher for a Spark daemon class (the pip package has no sbin/start-*)."""
    return [str(PYSPARK_HOME / "bin" / "spark-class"), main_class, *args]


@contextmanager
def spark_standalone(folder: Path, cores: int = 2, memory: str = "2g") -> Iterator[dict]:
    """A master and one worker on 127.0.0.1; yields their URLs (master, master_ui, worker_ui)."""
    folder.mkdir(parents=True, exist_ok=True)
    port, ui, worker_ui = free_port(), free_port(), free_port()
    env = {
        **env_with_bin(),
        "SPARK_HOME": str(PYSPARK_HOME),
        "SPARK_LOCAL_IP": "127.0.0.1",
        "SPARK_LOG_DIR": str(folder),
        "SPARK_WORKER_DIR": str(folder / "work"),
        "PYSPARK_PYTHON": sys.executable,
    }
    master = f"spark://127.0.0.1:{port}"
    master_cmd = spark_class(
        "org.apache.spark.deploy.master.Master",
        "--host", "127.0.0.1", "--port", str(port), "--webui-port", str(ui),
    )  # fmt: skip
    worker_cmd = spark_class(
        "org.apache.spark.deploy.worker.Worker",
        "--host", "127.0.0.1", "--cores", str(cores), "--memory", memory,
        "--webui-port", str(worker_ui), "--work-dir", str(folder / "work"), master,
    )  # fmt: skip
    master_ui, worker_url = f"http://127.0.0.1:{ui}", f"http://127.0.0.1:{worker_ui}"

    def worker_registered() -> bool:
        try:
            return json_of(f"{master_ui}/json/").get("aliveworkers", 0) >= 1
        except OSError:
            return False

    with (
        process(master_cmd, folder / "master.log", answers(f"{master_ui}/json/"), env=env),
        process(worker_cmd, folder / "worker.log", worker_registered, env=env),
    ):
        yield {"master": master, "master_ui": master_ui, "worker_ui": worker_url, "env": env}


# -- the JVM-free model server -----------------------------------------------------------------


def without_java_or_spark(folder: Path, **extra: str) -> dict[str, str]:
    """This environment minus Java (PATH entries holding `java`, JAVA_HOME, SPARK_HOME), with a
    `pyspark` that fails to import first on PYTHONPATH, as on a host where neither is installed."""
    blocker = folder / "no-pyspark" / "pyspark"
    blocker.mkdir(parents=True, exist_ok=True)
    (blocker / "__init__.py").write_text("raise ImportError('pyspark is not installed here')\n")
    bin_dir = str(Path(sys.executable).parent)  # mlflow runs uvicorn from PATH
    path = [
        shadow_without_java(d, folder / "path" / str(i)) if has_java(d) else d
        for i, d in enumerate(os.environ.get("PATH", "").split(os.pathsep))
        if d
    ]
    env = {k: v for k, v in os.environ.items() if k not in ("JAVA_HOME", "SPARK_HOME")}
    python_path = [str(blocker.parent), *filter(None, [os.environ.get("PYTHONPATH")])]
    env.update(
        PATH=os.pathsep.join([bin_dir, *path]), PYTHONPATH=os.pathsep.join(python_path), **extra
    )
    assert shutil.which("java", path=env["PATH"]) is None
    return env


def has_java(directory: str) -> bool:
    return os.access(os.path.join(directory, "java"), os.X_OK)


def shadow_without_java(directory: str, shadow: Path) -> str:
    """A folder of links to everything in `directory` but `java` (/usr/bin also holds bash)."""
    shadow.mkdir(parents=True, exist_ok=True)
    for entry in os.scandir(directory):
        if entry.name != "java" and not (shadow / entry.name).exists():
            (shadow / entry.name).symlink_to(entry.path)
    return str(shadow)


@contextmanager
def model_server(model_uri: str, tracking_uri: str, folder: Path) -> Iterator[str]:
    """`mlflow models serve -m <model_uri>` without Java or pyspark on loopback; its URL. Stopped
    (its whole process group) even if the test fails."""
    port = free_port()
    log_path = folder / "serve.log"
    env = without_java_or_spark(folder, MLFLOW_TRACKING_URI=tracking_uri,
                                MLFLOW_REGISTRY_URI=tracking_uri)  # fmt: skip
    command = [sys.executable, "-m", "mlflow", "models", "serve", "-m", model_uri,
               "--env-manager", "local", "--host", "127.0.0.1", "-p", str(port)]  # fmt: skip
    with open(log_path, "w") as log:
        server = subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    try:
        deadline = started + 180
        while True:
            if server.poll() is not None:
                pytest.fail(f"the server exited ({server.returncode}): {log_path.read_text()}")
            try:
                urllib.request.urlopen(f"{url}/ping", timeout=2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"no /ping answer in 180 s: {log_path.read_text()[-3000:]}")
                time.sleep(0.2)
        # The Spark flavor's server took ~26 s here (a SparkSession first); loose for busy CI.
        seconds = time.monotonic() - started
        assert seconds < 30, f"/ping answered after {seconds:.1f} s"
        assert "SparkSession" not in log_path.read_text()
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):  # it may have exited on its own
            os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def post(url: str, body: object, content_type: str = "application/json") -> tuple[int, object]:
    """POST to the server's /invocations: (status, the JSON answer or the error text)."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(
        f"{url}/invocations", data=data, headers={"Content-Type": content_type}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()
