import math

import numpy as np
import pytest
from hyperopt import pyll

from sweep.config import ParamSpec
from sweep.errors import ConfigError
from sweep.models import dtree, tables
from sweep.params import pinned, validate_search
from sweep.search.space import SearchSpace, to_spark_params

DTREE = {
    "max_depth": ParamSpec("int", 4, 30),
    "max_bins": ParamSpec("int", 16, 512, log=True),
    "impurity": ParamSpec("choice", values=["gini", "entropy"]),
}


@pytest.mark.parametrize(
    ("name", "spec", "message"),
    [
        ("max_depth", ParamSpec("int", 10, 4), r"search.max_depth: low \(10\) is greater"),
        ("max_depth", ParamSpec("int", 4, 31), r"search.max_depth.high: 31.*0 .. 30"),
        ("max_depth", ParamSpec("int", -1, 5), r"search.max_depth.low: -1.*0 .. 30"),
        ("max_depth", ParamSpec("normal", 4, 8), r"search.max_depth.type: unknown type 'normal'"),
        ("max_depth", ParamSpec("float", 4, 8), r"search.max_depth.type: max_depth is an integer"),
        ("max_depth", ParamSpec("int", None, 8), r"search.max_depth.low: missing bound"),
        ("max_bins", ParamSpec("int", 1, 64), r"search.max_bins.low: 1.*>= 2"),
        ("max_bins", ParamSpec("int", 0, 64, log=True), r"search.max_bins.low: 0"),
        ("impurity", ParamSpec("choice", values=[]), r"search.impurity.values: a choice needs"),
        ("impurity", ParamSpec("choice", values=["gain"]), r"values\[0\]: 'gain'"),
        ("impurity", ParamSpec("int", 1, 2), r"search.impurity.type: impurity takes categorical"),
        (
            "max_dept",
            ParamSpec("int", 1, 2),
            r"search.max_dept: unknown parameter 'max_dept' for model=dtree",
        ),
        ("min_info_gain", ParamSpec("float", 0, 0.1, log=True), r"log-scaled range needs low > 0"),
        ("min_weight_fraction_per_node", ParamSpec("float", 0, 0.5), r"0.0 .. 0.5 \(exclusive\)"),
    ],
)
def test_invalid_specs_name_the_key_the_value_and_what_is_valid(name, spec, message):
    with pytest.raises(ConfigError, match=message):
        validate_search({name: spec}, "dtree", tables())


def test_empty_search_space_is_rejected():
    with pytest.raises(ConfigError, match="search: the search space is empty"):
        validate_search({}, "dtree", tables())


@pytest.mark.parametrize(
    ("name", "spec"),
    [
        ("max_depth", ParamSpec("int", 0, 30)),
        ("max_depth", ParamSpec("choice", values=[5, 10, 20])),
        ("max_bins", ParamSpec("int", 2, 1024, log=True)),
        ("min_instances_per_node", ParamSpec("int", 1, 50)),
        ("min_info_gain", ParamSpec("float", 1e-6, 0.1, log=True)),
        ("min_weight_fraction_per_node", ParamSpec("float", 0.0, 0.4)),
        ("impurity", ParamSpec("choice", values=["entropy"])),
    ],
)
def test_valid_specs_pass(name, spec):
    validate_search({name: spec}, "dtree", tables())


def _samples(search, n=200, seed=0):
    rng = np.random.default_rng(seed)
    space = SearchSpace({"dtree": search}, nested=False).hyperopt()
    return [pyll.stochastic.sample(space, rng=rng) for _ in range(n)]


def test_sampled_points_translate_to_spark_names_and_exact_types_within_bounds():
    for point in _samples(DTREE):
        params = to_spark_params(point, DTREE, dtree.PARAMS)
        assert set(params) == {"maxDepth", "maxBins", "impurity"}
        assert type(params["maxDepth"]) is int and 4 <= params["maxDepth"] <= 30
        assert type(params["maxBins"]) is int and 16 <= params["maxBins"] <= 512
        assert params["impurity"] in ("gini", "entropy")


def test_log_scale_puts_as_many_samples_below_the_geometric_mean_as_above():
    values = [p["max_bins"] for p in _samples({"max_bins": DTREE["max_bins"]}, n=1000)]
    below = sum(v < math.sqrt(16 * 512) for v in values) / len(values)
    assert 0.4 < below < 0.6  # a uniform scale would put ~14% below sqrt(16*512) ≈ 90


def test_float_parameters_stay_floats_and_choices_of_ints_become_ints():
    search = {
        "min_info_gain": ParamSpec("float", 0.0, 0.2),
        "max_depth": ParamSpec("choice", values=[5, 10]),
    }
    for point in _samples(search, n=50):
        params = to_spark_params(point, search, dtree.PARAMS)
        assert type(params["minInfoGain"]) is float and 0.0 <= params["minInfoGain"] <= 0.2
        assert params["maxDepth"] in (5, 10) and type(params["maxDepth"]) is int


def test_every_searchable_parameter_is_a_decision_tree_param(spark):
    from pyspark.ml.classification import DecisionTreeClassifier

    tree = DecisionTreeClassifier()
    for param in dtree.PARAMS.values():
        assert tree.hasParam(param.spark_name), param.spark_name


@pytest.mark.parametrize(
    ("name", "spec", "spark_name", "value"),
    [
        ("max_depth", ParamSpec("int", 30, 30), "maxDepth", 30),
        ("max_bins", ParamSpec("int", 64, 64, log=True), "maxBins", 64),  # log: Hyperopt refuses
        ("min_info_gain", ParamSpec("float", 0.01, 0.01), "minInfoGain", 0.01),
        ("min_info_gain", ParamSpec("float", 0.02, 0.02, log=True), "minInfoGain", 0.02),
    ],
)
def test_low_equal_to_high_pins_the_parameter_next_to_searched_ones(name, spec, spark_name, value):
    search = {name: spec, "impurity": DTREE["impurity"]}
    validate_search(search, "dtree", tables())
    assert pinned(spec)
    for point in _samples(search, n=20):
        params = to_spark_params(point, search, dtree.PARAMS)
        assert params[spark_name] == value and type(params[spark_name]) is type(value)
        assert params["impurity"] in ("gini", "entropy")


def test_a_one_value_choice_is_searched_as_that_value():
    search = {"impurity": ParamSpec("choice", values=["entropy"])}
    assert {
        to_spark_params(p, search, dtree.PARAMS)["impurity"] for p in _samples(search, n=10)
    } == {"entropy"}


def test_pinned_parameters_are_no_hyperopt_label_and_resume_checks_their_value(compose_cfg):
    cfg = compose_cfg("+experiment=smoke", "search.max_depth.low=5", "search.max_depth.high=5")
    space = SearchSpace.of(cfg)
    params = {"maxDepth": 5, "maxBins": 16, "impurity": "gini"}
    vals = space.vals("dtree", params, dtree.PARAMS, "onehot")
    assert vals == {"max_bins": 16, "impurity": 0}
    assert space.labels() == ["max_bins", "impurity"]
    assert space.vals("dtree", {**params, "maxDepth": 6}, dtree.PARAMS, "onehot") is None


@pytest.mark.parametrize(
    ("family", "name", "message"),
    [
        ("dtree", "num_trees", r"search.num_trees: num_trees is a parameter of model=forest, "
         r"not of model=dtree\. Searchable parameters of model=dtree are: max_depth"),
        ("dtree", "subsampling_rate", r"subsampling_rate is a parameter of model=forest"),
        ("forest", "colour", r"search.colour: unknown parameter 'colour' for model=forest.*"
         r"num_trees"),
    ],
)  # fmt: skip
def test_a_parameter_of_another_family_names_the_key_and_the_family(family, name, message):
    with pytest.raises(ConfigError, match=message):
        validate_search({name: ParamSpec("int", 1, 5)}, family, tables())


@pytest.mark.parametrize(
    ("name", "spec", "message"),
    [
        ("subsampling_rate", ParamSpec("float", 0.0, 1.0), r"0.0 \(exclusive\) .. 1.0"),
        ("num_trees", ParamSpec("int", 0, 10), r"search.num_trees.low: 0"),
        ("feature_subset_strategy", ParamSpec("choice", values=["half"]), r"'half' is not valid"),
    ],
)
def test_forest_ranges_are_spark_s(name, spec, message):
    with pytest.raises(ConfigError, match=message):
        validate_search({name: spec}, "forest", tables())


def test_every_searchable_forest_parameter_is_a_random_forest_param(spark):
    from pyspark.ml.classification import RandomForestClassifier

    from sweep.models import forest

    estimator = RandomForestClassifier()
    for param in forest.PARAMS.values():
        assert estimator.hasParam(param.spark_name), param.spark_name


AUTO = {"dtree": DTREE, "forest": {"num_trees": ParamSpec("int", 2, 4), **DTREE}}


def test_auto_nests_each_family_under_a_family_choice_with_its_own_labels():
    space = SearchSpace(AUTO, nested=True)
    assert space.labels()[0] == "family" and "forest.num_trees" in space.labels()
    assert "dtree.max_depth" in space.labels() and "forest.max_depth" in space.labels()
    rng = np.random.default_rng(0)
    seen = set()
    for _ in range(100):
        chosen, features, values = space.decode(pyll.stochastic.sample(space.hyperopt(), rng=rng))
        seen.add(chosen)
        assert features == "onehot"  # not searched: data.features
        assert set(values) == set(AUTO[chosen])  # only the chosen family's entries
        table = tables()[chosen]
        params = to_spark_params(values, AUTO[chosen], table)
        assert ("numTrees" in params) == (chosen == "forest")
    assert seen == {"dtree", "forest"}


def test_auto_vals_give_the_family_index_and_prefixed_labels_or_none_outside():
    space = SearchSpace(AUTO, nested=True)
    forest = {"numTrees": 3, "maxDepth": 10, "maxBins": 32, "impurity": "entropy"}
    assert space.vals("forest", forest, tables()["forest"], "onehot") == {
        "family": 1,
        "forest.num_trees": 3,
        "forest.max_depth": 10,
        "forest.max_bins": 32,
        "forest.impurity": 1,
    }
    assert space.vals("forest", {**forest, "numTrees": 9}, tables()["forest"], "onehot") is None
    only_trees = SearchSpace({"dtree": DTREE}, nested=True)
    assert only_trees.vals("forest", forest, tables()["forest"], "onehot") is None


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["+search.max_depth={type:int,low:2,high:4}"], r"search.max_depth: model=auto nests"),
        (["+search.gbt={max_depth:{type:int,low:2,high:4}}"], r"search.gbt: 'gbt' is not a model"),
        (
            ["+search.dtree.num_trees={type:int,low:2,high:4}"],
            r"search.dtree.num_trees: num_trees is a parameter of model=forest, not of model=dtree",
        ),
        (["search.forest.max_depth.high=31"], r"search.forest.max_depth.high: 31"),
        (["~search.dtree", "~search.forest"], r"search: model=auto has no family to search"),
    ],
)
def test_auto_config_errors_name_the_nested_key(compose_cfg, overrides, message):
    with pytest.raises(ConfigError, match=message):
        compose_cfg("model=auto", *overrides)


def test_auto_composes_every_family_space_nested(compose_cfg):
    cfg = compose_cfg("+experiment=auto")
    assert cfg.model.family == "auto" and set(cfg.search) == {"dtree", "forest"}
    assert cfg.registry.model_name == "covtype-auto"
    assert cfg.search["forest"]["num_trees"].type == "int"
