"""On the real Covtype 100k sample (../shared/data/covtype), skipped with a reason when absent."""

import pytest

from sweep.config import DataSettings, ModelSettings
from sweep.data.prepare import prepared
from sweep.trial import run_trial
from tests.conftest import SAMPLE_100K, requires


@pytest.mark.slow
@requires(SAMPLE_100K)
def test_depth_20_entropy_tree_beats_085_validation_accuracy_on_the_100k_sample(spark):
    cfg = DataSettings(source="covtype", path=str(SAMPLE_100K))
    with prepared(spark, cfg, progress=False) as data:
        assert sum(data.counts.values()) == 100_000
        result = run_trial(
            data.train,
            data.validation,
            {"maxDepth": 20, "maxBins": 64, "impurity": "entropy"},
            ModelSettings(),
        )
    assert result.metrics["accuracy"] > 0.85, result.metrics
    assert result.summary["tree_depth"] == 20
