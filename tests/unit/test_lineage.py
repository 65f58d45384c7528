"""Where a run came from, as MLflow's dataset inputs and source tags: pure values."""

import json

from sweep.config import DataSettings
from sweep.lineage import code_commit, data_inputs, source_tags

COUNTS = {"train": 80, "validation": 10, "test": 10}


def test_each_split_is_a_dataset_with_its_context_and_the_files_digest():
    cfg = DataSettings(path="/data/covtype.data.gz")
    inputs = data_inputs("/data/covtype.data.gz", "ab" * 32, COUNTS, cfg)
    assert [i.context for i in inputs] == ["train", "validation", "test"]
    assert {i.name for i in inputs} == {"covtype.data.gz"}
    assert len({i.digest for i in inputs}) == 3  # one dataset per split: the store dedups by it
    assert {i.source_type for i in inputs} == {"local"}
    assert json.loads(inputs[0].source) == {"uri": "/data/covtype.data.gz"}
    profile = json.loads(inputs[1].profile)
    assert profile["rows"] == 10 and profile["file_sha256"] == "ab" * 32
    assert len(json.loads(inputs[0].schema)["mlflow_colspec"]) == 55


def test_another_split_seed_is_another_dataset():
    first = data_inputs("f", "00", COUNTS, DataSettings(seed=0))
    other = data_inputs("f", "00", COUNTS, DataSettings(seed=1))
    assert {i.digest for i in first}.isdisjoint(i.digest for i in other)


def test_synthetic_data_is_a_code_source():
    cfg = DataSettings(source="synthetic")
    inputs = data_inputs("synthetic(rows=100, seed=0)", "cd" * 32, COUNTS, cfg)
    assert inputs[0].name == "synthetic-covtype" and inputs[0].source_type == "code"
    assert data_inputs("hdfs://nn/c.csv", None, COUNTS, DataSettings())[0].source_type == "hdfs"


def test_source_tags_name_the_entry_point_and_the_commit_when_there_is_one():
    assert source_tags(None) == {"mlflow.source.name": "python -m sweep",
                                 "mlflow.source.type": "LOCAL"}  # fmt: skip
    assert source_tags("c0ffee")["mlflow.source.git.commit"] == "c0ffee"
    commit = code_commit()  # this checkout's, or None outside a git checkout
    assert commit is None or len(commit) == 40
