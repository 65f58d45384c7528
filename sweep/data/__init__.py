"""Owns the data a sweep trains on: the Covtype schema (`covtype`), the download (`download`),
the Parquet cache of prepared splits (`parquet_cache`) and the preparation itself (`prepare`)."""
