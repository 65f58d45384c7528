import pytest
from hydra import compose, initialize_config_dir
from hydra.errors import ConfigCompositionException, MissingConfigException

from sweep import config
from sweep.config_checks import load_config
from sweep.errors import ConfigError
from tests.conftest import CONF_DIR


def test_smoke_experiment_composes_into_typed_config(compose_cfg):
    cfg = compose_cfg("+experiment=smoke")
    assert isinstance(cfg, config.SweepConfig)
    assert cfg.data.source == "synthetic"
    assert isinstance(cfg.search["max_depth"], config.ParamSpec)
    assert cfg.sweep.max_evals == 4


def test_dtree_experiment_uses_real_covtype_and_the_full_search_space(compose_cfg):
    cfg = compose_cfg("+experiment=dtree")
    assert cfg.data.source == "covtype" and cfg.data.path is None and cfg.data.sha256
    assert set(cfg.search) == {"max_depth", "max_bins", "impurity"}
    assert cfg.search["max_depth"].high == 30
    assert cfg.tracking.experiment == "covtype-dtree"


def test_contract_overrides_work_as_written(compose_cfg, tmp_path):
    cfg = compose_cfg(
        "+experiment=dtree",
        "data=synthetic",
        "data.rows=1234",
        "sweep.max_evals=40",
        "sweep.seed=7",
        "sweep.metric=f1",
        "search.max_depth.high=20",
        "search.impurity.values=[entropy]",
        "+search.min_instances_per_node={type:int,low:1,high:50}",
        "tracking.experiment=other",
        "spark.master='local[1]'",
        "spark.driver_memory=2g",
    )
    assert (cfg.sweep.max_evals, cfg.sweep.seed, cfg.sweep.metric) == (40, 7, "f1")
    assert cfg.data.source == "synthetic" and cfg.data.rows == 1234
    assert cfg.search["max_depth"].high == 20
    assert cfg.search["impurity"].values == ["entropy"]
    assert cfg.search["min_instances_per_node"] == config.ParamSpec("int", 1, 50)
    assert (cfg.spark.master, cfg.spark.driver_memory) == ("local[1]", "2g")


def test_data_path_override(compose_cfg):
    cfg = compose_cfg("+experiment=dtree", "data.path=/data/covtype.data.gz")
    assert cfg.data.path == "/data/covtype.data.gz"


def test_mlflow_tracking_uri_env_is_the_default_and_the_key_wins(monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlite:////tmp/from-env.db")
    with initialize_config_dir(config_dir=CONF_DIR, version_base="1.3"):
        from_env = load_config(compose(config_name="config"))
        from_key = load_config(compose(config_name="config", overrides=["tracking.uri=file:/x"]))
    assert from_env.tracking.uri == "sqlite:////tmp/from-env.db"
    assert from_key.tracking.uri == "file:/x"


def test_default_tracking_uri_without_env(monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    with initialize_config_dir(config_dir=CONF_DIR, version_base="1.3"):
        cfg = load_config(compose(config_name="config"))
    assert cfg.tracking.uri == "sqlite:///mlflow.db"


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("sweep.max_evals=0", r"sweep.max_evals: 0 is not valid.*>= 1"),
        ("sweep.max_evals=-3", r"sweep.max_evals: -3 is not valid"),
        ("sweep.metric=auc", r"sweep.metric: 'auc' is not valid.*accuracy, f1"),
        ("sweep.n_startup_jobs=0", r"sweep.n_startup_jobs"),
        ("data.split=[0.5,0.2,0.2]", r"data.split: .*sum to 1"),
        ("data.split=[0.9,0.1]", r"data.split"),
        ("data.rows=10", r"data.rows: 10"),
        ("sweep.trial_timeout_s=0", r"sweep.trial_timeout_s: 0.0 is not valid.*> 0, or null"),
        ("tracking.log_models=some", r"tracking.log_models: 'some'.*best, all, none"),
        ("search.max_depth.high=31", r"search.max_depth.high: 31"),
        ("search.max_depth.low=40", r"search.max_depth.low: 40"),
        ("search.max_bins.low=1", r"search.max_bins.low: 1"),
        ("search.impurity.values=[]", r"search.impurity.values"),
        ("+search.colour={type:int,low:1,high:2}", r"search.colour: unknown parameter"),
        ("search.max_depth.type=gauss", r"search.max_depth.type: unknown type 'gauss'"),
        ("+search.max_depth.lo=1", r"search.max_depth.lo: unknown field 'lo'"),
        ("search.max_depth=7", r"search.max_depth: expected a mapping"),
    ],
)
def test_invalid_values_fail_with_key_value_and_valid_range(compose_cfg, override, message):
    with pytest.raises(ConfigError, match=message):
        compose_cfg("+experiment=dtree", override)


@pytest.mark.parametrize(
    "override",
    [
        "sweep.max_evals=many",
        "sweep.no_such_key=1",
        "+experiment=nope",
        "spark.mastr=local",
        "search.max_depth.lo=1",
    ],
)
def test_type_errors_and_unknown_keys_fail_at_composition(compose_cfg, override):
    with pytest.raises((ConfigCompositionException, MissingConfigException)) as info:
        compose_cfg("+experiment=dtree", override)
    assert override.split("=")[0].lstrip("+").split(".")[-1] in str(info.value)


def test_model_forest_selects_its_own_search_space_registry_name_and_experiment(compose_cfg):
    cfg = compose_cfg("+experiment=forest")
    assert cfg.model.family == "forest" and "num_trees" in cfg.search
    assert cfg.registry.model_name == "covtype-forest"
    assert cfg.tracking.experiment == "covtype-forest" and cfg.sweep.run_name == "forest-sweep"
    dtree = compose_cfg("+experiment=dtree")
    assert dtree.model.family == "dtree" and "num_trees" not in dtree.search
    assert dtree.registry.model_name == "covtype-dtree"
    named = compose_cfg("model=forest", "registry.model_name=covtype")  # one name, one champion
    assert named.registry.model_name == "covtype"


def test_a_forest_parameter_under_model_dtree_is_a_config_error(compose_cfg):
    with pytest.raises(ConfigError, match=r"search.num_trees: num_trees is a parameter of model"):
        compose_cfg("+experiment=dtree", "+search.num_trees={type:int,low:5,high:10}")
