"""`spark=standalone`: the same sweep on a real Spark standalone cluster (a master and one worker
on 127.0.0.1, started with PySpark's own spark-class), checked through the master's and the
worker's JSON pages; Spark Connect URLs are refused with the reason."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
from mlflow.tracking import MlflowClient

from sweep.config import DataSettings
from sweep.errors import ConfigError
from sweep.spark import builder_conf, check_master, unshared_data
from tests.conftest import SMOKE
from tests.services import json_of, spark_standalone

APP = "sweep-cluster-test"


@pytest.mark.parametrize(
    ("master", "conf", "where"),
    [
        ("sc://127.0.0.1:15002", {}, "spark.master"),
        ("local[2]", {"spark.remote": "sc://cluster:15002"}, "spark.conf.spark.remote"),
    ],
)
def test_spark_connect_is_refused_with_the_reason(master, conf, where):
    with pytest.raises(ConfigError, match=rf"^{where}: .* is Spark Connect, .*SparkContext"):
        check_master(master, conf)


@pytest.mark.parametrize("master", ["spark://127.0.0.1:7077", "yarn", "k8s://https://k8s:443"])
def test_cluster_masters_are_accepted(master):
    check_master(master, {"spark.executor.memory": "8g"})


@pytest.mark.parametrize(
    ("master", "source", "path", "warned"),
    [
        ("local[2]", "covtype", "/data/covtype.data.gz", None),
        ("spark://h:7077", "covtype", "/data/covtype.data.gz", "data.path=/data/covtype.data.gz"),
        ("yarn", "covtype", None, "the download in data.cache_dir=~/.cache/sweep"),
        ("yarn", "covtype", "file:///mnt/covtype.data.gz", "data.path=file:///mnt/covtype"),
        ("yarn", "covtype", "hdfs:///data/covtype.data.gz", None),
        ("k8s://https://k8s:443", "covtype", "s3a://bucket/covtype.data.gz", None),
        ("yarn", "synthetic", None, None),  # generated on the driver, shipped by Spark
    ],
)
def test_clusters_are_told_where_the_data_must_be(master, source, path, warned):
    hint = unshared_data(master, DataSettings(source=source, path=path))
    if warned is None:
        assert hint is None
    else:
        assert warned in hint and "every executor" in hint and "hdfs://" in hint


def test_spark_conf_entries_reach_the_builder_as_written(compose_cfg):
    # The README's form: Spark's keys contain dots, so they are given as one mapping.
    cfg = compose_cfg(
        "spark=standalone",
        "spark.master=yarn",
        '+spark.conf={spark.executor.instances:"4",spark.executor.memory:8g}',
    )
    conf = builder_conf(cfg.spark)
    assert conf["spark.executor.instances"] == "4" and conf["spark.executor.memory"] == "8g"
    assert conf["spark.driver.memory"] == "2g"  # from sweep/conf/spark/standalone.yaml
    check_master(cfg.spark.master, cfg.spark.conf)


@pytest.mark.slow
def test_three_trial_sweep_runs_on_the_workers_executors(tmp_path, tracking_uri):
    with spark_standalone(tmp_path / "cluster", cores=2, memory="2g") as cluster:
        started = time.monotonic()
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "sweep",
                *SMOKE,
                "spark=standalone",
                f"spark.master={cluster['master']}",
                f"spark.app_name={APP}",
                "sweep.max_evals=3",
                "sweep.progress_bar=false",
                f"hydra.run.dir={tmp_path}/out",
            ],  # fmt: skip
            cwd=tmp_path,
            env=cluster["env"],
            capture_output=True,
            text=True,
            timeout=600,
        )
        wall = time.monotonic() - started
        assert done.returncode == 0, done.stderr[-4000:]
        master = json_of(f"{cluster['master_ui']}/json/")
        worker = json_of(f"{cluster['worker_ui']}/json/")
    [app] = [a for a in master["completedapps"] if a["name"] == APP]
    assert app["state"] == "FINISHED"
    ran_here = [
        e for e in worker["executors"] + worker["finishedexecutors"] if e["appid"] == app["id"]
    ]
    assert ran_here, worker  # the executors of this application ran on our worker
    print(f"3-trial sweep on the standalone cluster: {wall:.1f} s (app {app['id']})")

    client = MlflowClient(tracking_uri)
    [parent] = client.search_runs(
        [client.get_experiment_by_name("covtype-dtree").experiment_id],
        "tags.`sweep.role` = 'parent'",
    )
    assert parent.info.status == "FINISHED" and parent.data.metrics["trials_finished"] == 3
    assert client.get_model_version_by_alias("covtype-dtree", "champion")
