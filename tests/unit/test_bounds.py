"""sweep.search.bounds: the winner on an end of a searched range, the user's or Spark's. Pure."""

from sweep.records import TrialRecord
from sweep.search.bounds import on_bounds
from sweep.search.space import SearchSpace


def _best(**params):
    return TrialRecord(0, "r", "ok", params, metrics={"accuracy": 0.9}, family="dtree")


def test_depth_at_sparks_cap_says_so_and_what_else_could_help(compose_cfg):
    space = SearchSpace.of(compose_cfg("+experiment=dtree"))  # max_depth 4..30, bins 16..512
    (bound,) = on_bounds(_best(maxDepth=30, maxBins=100, impurity="gini"), space)
    assert bound.param == "maxDepth" and bound.side == "top" and bound.spark_limit
    assert "Spark's own limit" in bound.note() and "model=forest" in bound.note()
    assert bound.tag() == "maxDepth=30 (top, Spark's limit)"


def test_a_users_bound_is_widened_within_sparks_limit(compose_cfg):
    cfg = compose_cfg("+experiment=dtree", "search.max_depth.high=20", "search.max_bins.low=32")
    bounds = on_bounds(_best(maxDepth=20, maxBins=32, impurity="gini"), SearchSpace.of(cfg))
    assert [(b.param, b.side, b.spark_limit) for b in bounds] == [
        ("maxDepth", "top", False), ("maxBins", "bottom", False),
    ]  # fmt: skip
    assert "widen it, e.g. search.max_depth.high=30" in bounds[0].note()  # 40 is past Spark's 30
    assert "search.max_bins.low=16" in bounds[1].note()


def test_inside_the_range_or_pinned_or_a_choice_is_no_bound(compose_cfg):
    cfg = compose_cfg("+experiment=dtree", "search.max_depth.low=30")  # pinned at 30
    assert on_bounds(_best(maxDepth=30, maxBins=100, impurity="gini"), SearchSpace.of(cfg)) == []
    space = SearchSpace.of(compose_cfg("+experiment=dtree"))
    assert on_bounds(_best(maxDepth=12, maxBins=100, impurity="entropy"), space) == []
