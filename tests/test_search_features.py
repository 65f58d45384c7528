"""The feature encoding searched as a choice (`search.features`): the space hands each point's
encoding to its trial (pure), the config refuses what cannot work, and a real sweep prepares and
caches both encodings once, fits each trial on its own, logs models of the 54 raw columns, resumes
and warm-starts with the encodings its trials used."""

import logging

import mlflow
import numpy as np
import pandas as pd
import pytest
from hyperopt import pyll
from mlflow.tracking import MlflowClient

from sweep.config import ParamSpec
from sweep.data import covtype
from sweep.errors import ConfigError
from sweep.models import dtree, tables
from sweep.runner import run_sweep
from sweep.search.space import SearchSpace, to_spark_params
from sweep.select import select
from sweep.tracking.runs import Tracker
from tests.conftest import SMOKE
from tests.test_parquet_cache import covtype_file

BOTH = ParamSpec("choice", values=["onehot", "categorical"])
TREES = {"max_depth": ParamSpec("int", 2, 8), "max_bins": ParamSpec("int", 40, 64)}
SEARCHED = "+search.features={type:choice,values:[onehot,categorical]}"
AUTO = ("data=synthetic", "model=auto")
AT = {"max_depth": 5, "max_bins": 48}  # a trial's values by label


def _points(space, n=60):
    rng = np.random.default_rng(0)
    return [space.decode(pyll.stochastic.sample(space.hyperopt(), rng=rng)) for _ in range(n)]


# -- pure: the space ------------------------------------------------------------------------------


def test_a_searched_encoding_is_a_label_decoded_out_of_the_point_not_a_spark_param():
    space = SearchSpace({"dtree": {**TREES, "features": BOTH}}, nested=False)
    assert space.labels() == ["max_depth", "max_bins", "features"]
    assert space.searches_features and space.recorded_features() == "searched"
    assert space.encodings() == ["onehot", "categorical"]
    seen = set()
    for family, features, values in _points(space):
        assert family == "dtree" and set(values) == set(TREES)  # no `features` left in it
        params = to_spark_params(values, space.branches["dtree"], dtree.PARAMS)
        assert set(params) == {"maxDepth", "maxBins"}
        seen.add(features)
    assert seen == {"onehot", "categorical"}


@pytest.mark.parametrize("fixed", ["onehot", "categorical"])
def test_without_the_entry_every_point_fits_on_data_features(fixed):
    space = SearchSpace({"dtree": TREES}, nested=False, fixed_features=fixed)
    assert not space.searches_features and space.recorded_features() == fixed
    assert space.encodings() == [fixed]
    assert {features for _, features, _ in _points(space, 10)} == {fixed}


def test_under_model_auto_each_family_searches_it_under_its_own_label():
    forest = {"num_trees": ParamSpec("int", 2, 3), **TREES, "features": BOTH}
    only_categorical = ParamSpec("choice", values=["categorical"])
    space = SearchSpace({"dtree": {**TREES, "features": only_categorical}, "forest": forest}, True)
    assert {"dtree.features", "forest.features"} <= set(space.labels())
    assert space.encodings() == ["categorical", "onehot"]
    pairs = {(family, features) for family, features, _ in _points(space)}
    assert pairs == {("dtree", "categorical"), ("forest", "onehot"), ("forest", "categorical")}


@pytest.mark.parametrize(
    ("branch", "features", "expected"),
    [
        ({**TREES, "features": BOTH}, "onehot", {**AT, "features": 0}),
        ({**TREES, "features": BOTH}, "categorical", {**AT, "features": 1}),
        ({**TREES, "features": ParamSpec("choice", values=["onehot"])}, "categorical", None),
        (TREES, "onehot", AT),  # data.features=onehot
        (TREES, "categorical", None),  # another encoding than data.features: outside
    ],
)  # fmt: skip
def test_a_finished_trial_s_encoding_is_part_of_its_place_in_the_space(branch, features, expected):
    space = SearchSpace({"dtree": branch}, nested=False, fixed_features="onehot")
    params = {"maxDepth": 5, "maxBins": 48}
    assert space.vals("dtree", params, tables()["dtree"], features) == expected


def test_the_parameters_plot_has_a_panel_of_each_trial_s_encoding():
    import matplotlib.pyplot as plt

    from sweep import plots
    from sweep.records import TrialRecord

    space = SearchSpace({"dtree": {**TREES, "features": BOTH}}, nested=False)
    trials = [
        TrialRecord(
            i,
            f"r{i}",
            "ok",
            {"maxDepth": 3 + i, "maxBins": 48},
            {"accuracy": 0.5 + i / 10},
            family="dtree",
            features=("onehot", "categorical")[i % 2],
        )
        for i in range(4)
    ]
    figure = plots.parameters(trials, "accuracy", space)
    panel = figure.axes[2]
    assert panel.get_title() == "features"
    assert [t.get_text() for t in panel.get_xticklabels()] == ["onehot", "categorical"]
    positions = np.round(panel.collections[0].get_offsets()[:, 0]).astype(int).tolist()
    assert positions == [0, 1, 0, 1]  # each trial at its encoding
    plt.close(figure)


@pytest.mark.parametrize("encodings", [("onehot", "categorical"), ("categorical", "categorical")])
def test_the_top_tables_have_a_features_column_when_the_trials_mix_encodings(encodings):
    from sweep.records import TrialRecord
    from sweep.report import top_trials
    from sweep.story import top_table

    trials = [
        TrialRecord(i, f"r{i}", "ok", {"maxDepth": 3 + i}, {"accuracy": 0.5 + i / 10}, features=f)
        for i, f in enumerate(encodings)
    ]
    mixed = len(set(encodings)) > 1
    header = top_table(trials, "accuracy")[2]
    assert ("| features |" in header) == mixed
    assert ("features" in top_trials(trials, "accuracy")[1]) == mixed
    assert top_table(trials, "accuracy")[4].startswith(
        f"| 1 | 0.6000 | {encodings[1]} |" if mixed else "| 1 | 0.6000 | 4 |"
    )


# -- the config ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (("+search.features={type:choice,values:[onehot,ordinal]}",),
         r"search.features.values\[1\]: 'ordinal' is not an encoding\. Use onehot and/or "
         r"categorical"),
        (("+search.features={type:int,low:0,high:1}",),
         r"search.features.type: the encoding is searched as a choice, not type 'int'"),
        (("+search.features={type:choice,values:[]}",), r"search.features.values: a choice needs"),
        ((SEARCHED,),  # smoke searches 8..64 bins
         r"search.max_bins.low: 8 is below 40: with categorical among search.features.values .*"
         r"Use search.max_bins.low=40 or more .* or drop categorical from search.features.values"),
        ((SEARCHED, "~search.max_bins"), r"search.max_bins: is not searched, so trees get Spark"),
        ((SEARCHED, "search.max_bins.low=40", "sweep.scheduler=halving"),
         r"search.features: a halving sweep fits on one encoding.*without sweep.scheduler=halving"),
        ((*AUTO, "+search.dtree.features={type:choice,values:[onehot]}"),
         r"search.forest.features: search.dtree.features searches the encoding, but "
         r"search.forest does not"),
        ((*AUTO, "+search.dtree.features={type:choice,values:[categorical]}",
          "+search.forest.features={type:choice,values:[onehot]}"),
         r"search.dtree.max_bins.low: 16 is below 40: with categorical among "
         r"search.dtree.features.values"),
        (("data=synthetic", "model=auto", SEARCHED),
         r"search.features: model=auto nests each family's space under its name"),
    ],
)  # fmt: skip
def test_what_cannot_be_searched_is_one_clear_error(compose_cfg, overrides, message):
    with pytest.raises(ConfigError, match=message):
        compose_cfg(*(() if "model=auto" in overrides else SMOKE), *overrides)


def test_onehot_alone_needs_no_bins_and_search_features_wins_over_data_features(compose_cfg):
    cfg = compose_cfg(*SMOKE, "+search.features={type:choice,values:[onehot]}")
    assert SearchSpace.of(cfg).encodings() == ["onehot"]
    cfg = compose_cfg(*SMOKE, SEARCHED, "search.max_bins.low=40", "data.features=categorical")
    space = SearchSpace.of(cfg)
    assert space.encodings() == ["onehot", "categorical"]  # data.features is not used
    assert space.recorded_features() == "searched"


# -- a real sweep ----------------------------------------------------------------------------------


def _sweep_args(path, *more):
    """Seed 4 draws both encodings in 4 random trials, and its winner (onehot) is not the first
    encoding prepared, so the winner's test split must come from the alternates. Without curves:
    one trial's depth curve would end the random start after the first trial."""
    return (
        *SMOKE,
        "sweep.curves.enabled=false",
        "data=covtype",  # a real file: each encoding is cached in its own Parquet entry
        f"data.path={path}",
        "+search.features={type:choice,values:[categorical,onehot]}",
        "search.max_bins.low=40",
        "sweep.n_startup_jobs=4",
        "sweep.seed=4",
        "registry.enabled=false",
        *more,
    )


def test_a_sweep_fits_each_trial_on_its_encoding_and_resumes_and_warm_starts_with_them(
    compose_cfg, spark, session, tmp_path, caplog
):
    path = covtype_file(tmp_path, rows=1200)
    cfg = compose_cfg(*_sweep_args(path, "sweep.max_evals=4", "tracking.log_models=none"))
    first = run_sweep(cfg, spark, Tracker.connect(cfg.tracking))
    client = MlflowClient(cfg.tracking.uri)
    parent = client.get_run(first.parent_run_id)
    assert parent.data.params["features"] == "searched"
    assert parent.data.params["best_features"] == first.best.features
    assert parent.data.tags["sweep.data_cache"] == "categorical: stored, onehot: stored"
    assert sorted(t.features for t in first.trials) == ["categorical"] * 2 + ["onehot"] * 2
    assert first.best.features != SearchSpace.of(cfg).encodings()[0]
    for trial in first.trials:
        child = client.get_run(trial.run_id)
        assert child.data.params["features"] == trial.features
        assert trial.features in child.info.run_name.split()  # t01 categorical d5 b52
        assert int(child.data.params["maxBins"]) >= 40
        local = client.download_artifacts(trial.run_id, "feature_importances.csv")
        assert len(pd.read_csv(local)) == (12 if trial.features == "categorical" else 54)
    trials_csv = pd.read_csv(client.download_artifacts(first.parent_run_id, "trials.csv"))
    assert list(trials_csv["features"]) == [t.features for t in first.trials]

    # sweep.select refits the winner on its own encoding (the same score: no warning) and logs
    # a model of the 54 raw columns.
    with caplog.at_level(logging.WARNING, logger="sweep.trial"):
        reg = select(Tracker.open(cfg.tracking.uri), first.parent_run_id, {}, session)
    assert "refitted trial scores" not in caplog.text
    raw = pd.DataFrame(covtype.synthesize(20, 9)[covtype.FEATURES]).astype("int64")
    mlflow.set_tracking_uri(cfg.tracking.uri)
    model = mlflow.pyfunc.load_model(f"models:/{reg.name}/{reg.version}")
    assert model.metadata.get_input_schema().input_names() == covtype.FEATURES
    assert set(model.predict(raw)) <= set(range(1, 8))

    # Resume: the trials keep their encodings, the winner is refitted (or logged) on its own,
    # and both cache entries are read.
    resumed = compose_cfg(*_sweep_args(path, "sweep.max_evals=6", "sweep.resume=last"))
    result = run_sweep(resumed, spark, Tracker.connect(resumed.tracking))
    assert result.parent_run_id == first.parent_run_id and len(result.trials) == 6
    assert [t.features for t in result.trials[:4]] == [t.features for t in first.trials]
    parent = client.get_run(result.parent_run_id)
    assert parent.data.tags["sweep.data_cache"] == "categorical: read, onehot: read"
    assert client.get_run(result.best.run_id).data.params["features"] == result.best.features
    assert set(mlflow.pyfunc.load_model(result.model_uri).predict(raw)) <= set(range(1, 8))
    with pytest.raises(
        ConfigError, match=r"of search.features \(searched\) as data.features=onehot"
    ):
        plain = compose_cfg(*SMOKE, "data=covtype", f"data.path={path}", "sweep.resume=last")
        run_sweep(plain, spark, Tracker.connect(plain.tracking))

    # A warm start on one encoding takes the prior's trials of that encoding only.
    warm = compose_cfg(
        *SMOKE,
        "data=covtype",
        f"data.path={path}",
        "data.features=categorical",
        "search.max_bins.low=40",
        f"sweep.warm_start={first.parent_run_id}",
        "sweep.max_evals=1",
        "tracking.log_models=none",
        "registry.enabled=false",
    )
    started = run_sweep(warm, spark, Tracker.connect(warm.tracking))
    seeded = client.get_run(started.parent_run_id).data.params["warm_start_trials"]
    assert int(seeded) == sum(t.features == "categorical" for t in result.finished)
    assert {t.features for t in started.trials} == {"categorical"}
