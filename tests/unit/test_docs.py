"""The configuration reference cannot leave a key out: docs/hooks/config_reference.py builds it
from the schemas and sweep/conf/, and every key needs a meaning in docs/keys.yaml."""

import importlib.util

import pytest

from tests.conftest import ROOT


@pytest.fixture(scope="module")
def reference():
    path = ROOT / "docs" / "hooks" / "config_reference.py"
    spec = importlib.util.spec_from_file_location("config_reference", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_schema_key_has_a_meaning_and_every_meaning_a_key(reference):
    missing, unknown = reference.undocumented()
    assert missing == [], f"add these keys to docs/keys.yaml: {missing}"
    assert unknown == [], f"docs/keys.yaml names keys the schema does not have: {unknown}"


def test_the_reference_table_shows_each_key_with_its_composed_default(reference):
    table = reference.keys_table()
    assert len(table.splitlines()) == 2 + len(reference.schema_keys())
    assert "| `sweep.max_evals` | int | `25` |" in table
    assert "| `tracking.experiment` | str | `${data.name}-${model.family}` |" in table
    assert "| `+experiment=NAME` | `auto`, `dtree`, `forest`, `smoke` |" in reference.groups_table()


def test_a_key_added_to_the_schema_without_a_meaning_is_caught(reference, monkeypatch):
    monkeypatch.setattr(reference, "meanings", lambda: {"sweep.max_evals": "trials"})
    missing, _ = reference.undocumented()
    assert "sweep.seed" in missing
    with pytest.raises(ValueError, match="undocumented keys"):
        reference.keys_table()
