"""The pure tier: every test here is checked, as it ends, to have started no JVM (no SparkContext,
no Py4J gateway) and opened no MLflow store. `pytest tests/unit` runs in seconds; a test that needs
Spark or a store belongs in the integration tier (tests/, outside unit/)."""

from __future__ import annotations

import sys

import pytest


def jvm_started() -> bool:
    """A SparkContext or a Py4J gateway in this process (pyspark may be imported: MLflow imports
    it by itself whenever it is installed, so only a started JVM counts)."""
    if "pyspark" not in sys.modules:
        return False
    from pyspark import SparkContext

    return SparkContext._gateway is not None or SparkContext._active_spark_context is not None


def stores_opened() -> int:
    """How many tracking stores MLflow has built in this process (it caches one per URI)."""
    if "mlflow" not in sys.modules:
        return 0
    from mlflow.tracking._tracking_service import utils

    return utils._tracking_store_registry._get_store_with_resolved_uri.cache_info().currsize


@pytest.fixture(autouse=True)
def pure(request):
    """Fails the test that started a JVM or opened an MLflow store (checked only where none was
    there before it: in a run of the whole suite the integration tier may have started both)."""
    jvm_before, stores_before = jvm_started(), stores_opened()
    yield
    if not jvm_before:
        assert not jvm_started(), f"{request.node.nodeid} started a JVM: move it out of tests/unit"
    assert stores_opened() == stores_before, (
        f"{request.node.nodeid} opened an MLflow store: move it out of tests/unit"
    )
