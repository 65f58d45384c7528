"""Owns every conversation with MLflow: no module outside this package imports `mlflow`.

- `store`, `sqlite_store`: reaching a store before any run (probe, safe SQLite creation);
- `connect`: a retrying client and the experiment a sweep works in;
- `runs`: the `Tracker`: runs that always end, and what is logged on them;
- `artifacts`: files, figures, tables and models logged on a run;
- `history`: reading past sweeps back (a parent, its children, its recorded config);
- `retry`: the one retry policy while a server is away;
- `registry`, `servable`: the Model Registry and the logged model.
"""
