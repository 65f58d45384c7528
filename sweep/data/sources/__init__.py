"""Owns the data sources: where a sweep's rows come from and how they become the splits it fits on.

- `covtype`: the Covtype preset (`data=covtype` and its synthetic twin `data=synthetic`): the UCI
  file, downloaded or given, its one-hot or categorical encodings, the Parquet cache;
- `table` (reading) and `table_prepare` (the spec and the encoded splits): any table Spark reads
  (`data=table`).

`sweep.data.prepare.prepared` picks the source by `data.source` and hands the rest of the sweep one
`PreparedData` with the dataset spec, whatever the source.
"""
