"""The SparkSession as a context manager, and the Java check that runs before it.

PySpark's own message for a missing or unsupported Java is "Java gateway process exited before
sending its port number"; `find_java` replaces that with what to install.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

from pyspark.sql import SparkSession

from sweep.config import DataSettings, SparkSettings
from sweep.errors import ConfigError, EnvironmentProblem, first_line

log = logging.getLogger(__name__)
SUPPORTED_JAVA = (17, 21)
INSTALL_JAVA = (
    "Spark 4 needs Java 17 or 21. Install one and put it on PATH or set JAVA_HOME: "
    "Debian/Ubuntu `sudo apt-get install openjdk-17-jre-headless`; "
    "macOS `brew install openjdk@17`; conda `conda install -c conda-forge openjdk=17`"
)
LOG4J = Path(__file__).with_name("log4j2.properties")
MASTER = re.compile(r"^(local(\[(\*|\d+)(,\d+)?\])?|spark://.+|yarn|k8s://.+|mesos://.+)$")


def java_version_of(output: str) -> int | None:
    """Major version from `java -version` output: '17.0.15' → 17, '1.8.0_392' → 8."""
    match = re.search(r'version "(\d+)(?:\.(\d+))?', output)
    if not match:
        return None
    major, minor = int(match.group(1)), int(match.group(2) or 0)
    return minor if major == 1 else major


def find_java(env: dict[str, str] | None = None) -> tuple[str, int]:
    """The java executable Spark will use and its major version; EnvironmentProblem if unusable."""
    env = dict(os.environ if env is None else env)
    java_home = env.get("JAVA_HOME")
    if java_home:
        java = str(Path(java_home) / "bin" / "java")
        where = f"JAVA_HOME={java_home}"
        if not Path(java).is_file():
            raise EnvironmentProblem(
                f"{java} does not exist",
                where=where,
                fix=f"Unset JAVA_HOME or point it at a Java install. {INSTALL_JAVA}",
            )
    else:
        java = shutil.which("java", path=env.get("PATH"))
        where = "PATH"
        if java is None:
            raise EnvironmentProblem(
                "no Java runtime found (no JAVA_HOME, no java on PATH)",
                where=where,
                fix=INSTALL_JAVA,
            )
    try:
        done = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise EnvironmentProblem(
            f"cannot run {java}: {exc}", where=where, fix=INSTALL_JAVA
        ) from exc
    version = java_version_of(done.stderr + done.stdout)
    if version not in SUPPORTED_JAVA:
        raise EnvironmentProblem(
            f"{java} is Java {version or 'of unknown version'}", where=where, fix=INSTALL_JAVA
        )
    return java, version


def check_master(master: str, conf: dict[str, str] | None = None) -> None:
    remote = (conf or {}).get("spark.remote")
    if master.startswith("sc://") or remote:
        where = "spark.master" if master.startswith("sc://") else "spark.conf.spark.remote"
        raise ConfigError(
            f"{remote or master!r} is Spark Connect, which sweep cannot use: the trees would fit, "
            "but job cancellation, FAIR pools and mlflow.spark.log_model need the JVM's "
            "SparkContext ([JVM_ATTRIBUTE_NOT_SUPPORTED] over Connect)",
            where=where,
            fix="Point spark.master at the cluster itself (spark://host:7077, yarn, "
            "k8s://https://host) and run the sweep where the driver can reach the executors",
        )
    if not MASTER.match(master):
        raise ConfigError(
            f"{master!r} is not a Spark master URL",
            where="spark.master",
            fix="Use local[*], local[N], spark://host:port, yarn or k8s://https://host",
        )


def unshared_data(master: str, data: DataSettings) -> str | None:
    """Pure: on a cluster, what executors must read from a local path (they read data.path, the
    download and the Parquet cache themselves), or None when nothing local is involved."""
    if master.startswith("local") or data.source == "synthetic" or data.table:
        return None
    path = data.path
    if data.source == "table" and path is None:
        return None
    if path is not None and urlparse(path).scheme not in ("", "file"):
        return None  # hdfs://, s3a://, ...: Spark reads it from everywhere
    where = f"data.path={path}" if path else f"the download in data.cache_dir={data.cache_dir}"
    return (
        f"spark.master={master} is a cluster: its executors read {where} (and the Parquet cache "
        "in data.cache_dir) themselves, so it must be at the same path on every executor (a "
        "shared mount); otherwise put the file on HDFS or S3 and pass data.path=hdfs://... or "
        "s3a://..."
    )


def builder_conf(cfg: SparkSettings) -> dict[str, str]:
    """Every setting the session is built with; user `spark.conf` entries win."""
    conf = {
        "spark.driver.memory": cfg.driver_memory,
        "spark.ui.enabled": str(cfg.ui).lower(),
        "spark.sql.shuffle.partitions": str(cfg.shuffle_partitions),
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.ui.showConsoleProgress": "false",
        "spark.driver.extraJavaOptions": f"-Dlog4j2.configurationFile={LOG4J.as_uri()}",
    }
    conf.update({k: str(v) for k, v in cfg.conf.items()})
    return conf


@contextmanager
def spark_session(cfg: SparkSettings) -> Iterator[SparkSession]:
    """Check Java and the master URL, build the session, always stop it."""
    check_master(cfg.master, cfg.conf)
    java, version = find_java()
    log.info("Using Java %s at %s", version, java)
    builder = SparkSession.builder.master(cfg.master).appName(cfg.app_name)
    for key, value in builder_conf(cfg).items():
        builder = builder.config(key, value)
    try:
        spark = builder.getOrCreate()
    except Exception as exc:
        raise EnvironmentProblem(
            f"Spark did not start: {first_line(exc)}",
            where=f"spark.master={cfg.master}",
            fix="Check spark.master and spark.driver_memory",
        ) from exc
    spark.sparkContext.setLogLevel(cfg.log_level)
    try:
        yield spark
    finally:
        spark.stop()
