"""Owns the data sources a sweep can read besides the Covtype preset: `table` (any table Spark
reads, `data=table`). Covtype and its synthetic twin are prepared by `sweep.data.prepare`."""
