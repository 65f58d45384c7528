"""sweep: seeded Hyperopt (TPE) sweeps of Spark ML decision trees, tracked in MLflow."""

__version__ = "0.1.0"
