"""`mlflow run .` reproduces the sweep; conda.yml installs the project held to constraints.txt."""

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from mlflow.tracking import MlflowClient

from sweep.mlproject import hydra_args
from tests.conftest import ROOT


def requirement_pins(lines):
    """'pyspark==4.3.0' → {'pyspark': '==4.3.0'}; comments, options and conda packages ignored."""
    pins = {}
    for line in lines:
        match = re.match(r"^\s*([A-Za-z0-9_.\-]+)(\[[^]]*\])?\s*([<>=!~].*)?$", line.split("#")[0])
        if match:
            pins[match.group(1).lower()] = (match.group(3) or "").replace(" ", "")
    return pins


def test_conda_yml_installs_the_project_held_to_the_tested_set():
    conda = yaml.safe_load((ROOT / "conda.yml").read_text())["dependencies"]
    pip_section = next(d["pip"] for d in conda if isinstance(d, dict))
    assert pip_section == ["-c constraints.txt", "."]
    python = next(d for d in conda if isinstance(d, str) and d.startswith("python="))
    assert re.fullmatch(r"python=3\.1[0-9]", python)


@pytest.mark.parametrize("constraints", ["constraints.txt", "constraints-oldest.txt"])
def test_each_tested_set_pins_every_dependency_inside_its_range(constraints):
    from packaging.requirements import Requirement

    pins = requirement_pins((ROOT / constraints).read_text().splitlines())
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    for requirement in map(Requirement, project):
        pinned = pins.get(requirement.name.lower(), "")
        assert pinned.startswith("=="), f"{constraints} does not pin {requirement.name}"
        assert requirement.specifier.contains(pinned[2:]), f"{constraints}: {requirement} {pinned}"


def test_mlproject_forwards_parameters_to_the_sweep():
    spec = yaml.safe_load((ROOT / "MLproject").read_text())
    main = spec["entry_points"]["main"]
    assert spec["conda_env"] == "conda.yml"
    assert {"max_evals", "seed", "overrides"} <= set(main["parameters"])
    assert hydra_args(3, 7, "data=synthetic 'search.impurity.values=[entropy]'") == [
        "+experiment=dtree",
        "sweep.max_evals=3",
        "sweep.seed=7",
        "data=synthetic",
        "search.impurity.values=[entropy]",
    ]


@pytest.mark.slow
def test_mlflow_run_makes_its_run_the_parent_of_three_forest_trials(tmp_path, tracking_uri):
    """`-P overrides="model=forest …"` switches the family of the project's dtree experiment."""
    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    overrides = (
        f"model=forest data=synthetic data.rows=3000 sweep.n_startup_jobs=2 "
        f"search.num_trees.high=12 search.max_depth.low=4 search.max_depth.high=8 "
        f"\"spark.master='local[2]'\" "
        f"hydra.run.dir={tmp_path}/outputs"
    )
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mlflow",
            "run",
            str(ROOT),
            "--env-manager",
            "local",
            "--experiment-name",
            "covtype-forest",
            "-P",
            "max_evals=3",
            "-P",
            f"overrides={overrides}",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    client = MlflowClient(tracking_uri)
    experiment = client.get_experiment_by_name("covtype-forest")
    runs = client.search_runs([experiment.experiment_id])
    top = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    assert len(top) == 1, [r.info.run_name for r in top]
    parent = top[0]
    assert parent.data.tags.get("mlflow.project.entryPoint") == "main"  # made by mlflow run
    assert parent.data.tags["sweep.role"] == "parent" and parent.info.status == "FINISHED"
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
    assert len(children) == 3 and all(c.info.status == "FINISHED" for c in children)
    assert all(
        c.data.params["family"] == "forest" and "numTrees" in c.data.params for c in children
    )
    version = client.get_model_version_by_alias("covtype-forest", "champion")
    assert version.tags["parent_run_id"] == parent.info.run_id
