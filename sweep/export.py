"""Spark's saved tree model → `treescore.Trees`, read from the files Spark wrote, without Spark.

Why from the saved directory: `mlflow.spark.save_model` has already written the PipelineModel
(copied back from the cluster's file system when there is one), and Spark stores a tree as a
Parquet table of nodes (id, impurityStats, leftChild, rightChild, split{featureIndex,
leftCategoriesOrThreshold, numCategories}; a forest adds treeID). Reading that table with pyarrow
is vectorised: ~0.1 s for a 45,000-node tree, where a Python pass per node over py4j or
`onnxmltools.convert_sparkml` (106 s for 15,689 nodes) costs seconds to minutes. It also needs no
SparkSession, so a model logged before this existed can be exported from its artifacts.

Supported: a PipelineModel of one VectorAssembler (numeric columns) followed by a
DecisionTreeClassificationModel or RandomForestClassificationModel reading its output; before the
assembler, optionally the SQLTransformer of `data.features=categorical` (`sweep.data.features`),
whose one-hot groups the exported trees then carry, so the scorer takes the same raw columns. Any
other SQL is refused: the statement must be exactly one `sweep.data.features.statement` writes.

A table's pipeline (`data=table`, given its `DatasetSpec`): the spec's SQLTransformer (the
statement must equal `spec.statement()`), the VectorAssembler of `spec.columns()`, a decision tree
or random forest, classifier or regressor, and for classification optionally the IndexToString of
the spec's classes. The trees then carry the spec's rules (format 3), so the scorer takes the raw
columns and returns the user's labels. A regressor's nodes store their `prediction` (the mean
label of their rows; impurityStats are [count, sum, sum of squares]), which is what it predicts.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from sweep.data.features import groups_of
from sweep.data.spec import CLASSIFICATION, DatasetSpec, label_key
from sweep.errors import UnsupportedModel
from sweep.treescore import FOREST, FOREST_REGRESSOR, REGRESSORS, TREE, TREE_REGRESSOR, Trees

_SPARK = "org.apache.spark.ml."
ASSEMBLER = _SPARK + "feature.VectorAssembler"
SQL = _SPARK + "feature.SQLTransformer"
INDEX_TO_STRING = _SPARK + "feature.IndexToString"
MODELS = {
    **{_SPARK + "classification." + kind: kind for kind in (TREE, FOREST)},
    **{_SPARK + "regression." + kind: kind for kind in (TREE_REGRESSOR, FOREST_REGRESSOR)},
}
__all__ = ["UnsupportedModel", "from_saved_model", "from_saved_pipeline", "trees_from_nodes"]


def from_saved_pipeline(path: str | Path, spec: DatasetSpec | None = None) -> Trees:
    """The trees of the PipelineModel Spark saved at `path` (e.g. a logged model's `sparkml/`).
    A table's pipeline needs its `spec` (one with features): the trees then carry its rules."""
    path = Path(path)
    stages = _stage_dirs(path)
    kinds = [_metadata(s)["class"] for s in stages]
    if spec is not None and spec.features:
        return _table_trees(path, stages, kinds, spec)
    groups: dict[str, list[str]] = {}
    if len(stages) == 3 and kinds[0] == SQL:
        groups = _onehot_groups(stages[0])
        stages, kinds = stages[1:], kinds[1:]
    if len(stages) != 2 or kinds[0] != ASSEMBLER or MODELS.get(kinds[1]) not in (TREE, FOREST):
        raise _unsupported_stages(
            kinds,
            path,
            "a VectorAssembler (after sweep's categorical SQLTransformer, optionally) followed by "
            "a decision tree or random forest classifier; a regressor or a table's pipeline "
            "needs its dataset spec",
        )
    columns = tuple(_param(_metadata(stages[0]), "inputCols"))
    missing = [name for name in groups if name not in columns]
    if missing:
        raise UnsupportedModel(
            f"the assembler does not take the categorical column(s) {missing}",
            where=str(stages[0]),
        )
    trees = _model_trees(stages[0], stages[1], columns)
    if not groups:
        return trees
    return replace(
        trees,
        onehot_columns=tuple(c for cols in groups.values() for c in cols),
        onehot_feature=np.array(
            [columns.index(name) for name, cols in groups.items() for _ in cols], dtype=np.int32
        ),
    )


def from_saved_model(path: str | Path) -> Trees:
    """A tree model's trees as Spark saved it (`model.save`): what `sweep.curves` scores."""
    model = _metadata(Path(path))
    kind, columns = MODELS[model["class"]], tuple(f"f{i}" for i in range(model["numFeatures"]))
    nodes = _node_table(Path(path) / "data", nested=kind in (FOREST, FOREST_REGRESSOR))
    return trees_from_nodes(kind, columns, model.get("numClasses", 0), nodes)


def _table_trees(path: Path, stages: list[Path], kinds: list[str], spec: DatasetSpec) -> Trees:
    """A table's pipeline: [SQLTransformer, VectorAssembler, model, IndexToString?], each stage
    checked against the spec it was built from (`stages_before` / `stages_after`)."""
    if (
        len(stages) not in (3, 4)
        or kinds[:2] != [SQL, ASSEMBLER]
        or kinds[2] not in MODELS
        or kinds[3:] not in ([], [INDEX_TO_STRING])
    ):
        raise _unsupported_stages(
            kinds,
            path,
            "the dataset spec's SQLTransformer and VectorAssembler, a decision tree or random "
            "forest, then for classification optionally the IndexToString of its classes",
        )
    if _param(_metadata(stages[0]), "statement") != spec.statement():
        raise UnsupportedModel(
            "its SQLTransformer is not the dataset spec's statement",
            where=str(stages[0]),
            fix="Export with the spec the pipeline was built from (stages_before(spec))",
        )
    columns = tuple(_param(_metadata(stages[1]), "inputCols"))
    if list(columns) != spec.columns():
        raise UnsupportedModel("the assembler does not read the spec's columns", where=str(path))
    model, kind = _metadata(stages[2]), MODELS[kinds[2]]
    wrong_task = (kind in REGRESSORS) == (spec.task == CLASSIFICATION)
    if wrong_task or model.get("numClasses", 0) > len(spec.classes or ()):
        raise UnsupportedModel(f"a {kind} does not fit a {spec.task} spec", where=str(path))
    if len(stages) == 4:
        _check_labels(stages[3], model, spec)
    return _model_trees(stages[1], stages[2], columns, spec=json.dumps(spec.scorer()))


def _check_labels(stage: Path, model: dict, spec: DatasetSpec) -> None:
    """The IndexToString must turn the model's prediction into the spec's classes, or the two
    flavors would return different labels."""
    meta, labels = _metadata(stage), [label_key(c) for c in spec.classes or ()]
    decodes = (_param(meta, "inputCol"), _param(meta, "labels"))
    if decodes != (_param(model, "predictionCol"), labels):
        raise UnsupportedModel(
            "its IndexToString does not decode the model's prediction into the spec's classes",
            where=str(stage),
            fix="Build the last stage with stages_after(spec)",
        )


def _unsupported_stages(kinds: list[str], path: Path, takes: str) -> UnsupportedModel:
    return UnsupportedModel(
        f"the pipeline's stages are {[k.rsplit('.', 1)[-1] for k in kinds]}",
        where=str(path),
        fix=f"The JVM-free scorer takes {takes}",
    )


def _model_trees(
    assembler_stage: Path, model_stage: Path, columns: tuple[str, ...], spec: str = ""
) -> Trees:
    """The model's trees, once it is shown to read the assembler's vector of `columns`."""
    assembler, model = _metadata(assembler_stage), _metadata(model_stage)
    if _param(assembler, "outputCol") != _param(model, "featuresCol"):
        raise UnsupportedModel(
            "the model does not read the assembler's output column", where=str(model_stage)
        )
    if model["numFeatures"] != len(columns):
        raise UnsupportedModel(
            f"the model takes {model['numFeatures']} features from {len(columns)} columns "
            "(a vector-valued input column?)",
            where=str(assembler_stage),
            fix="Assemble the features from numeric columns only",
        )
    kind = MODELS[model["class"]]
    nodes = _node_table(model_stage / "data", nested=kind in (FOREST, FOREST_REGRESSOR))
    num_classes = 0 if kind in REGRESSORS else int(model["numClasses"])
    return replace(trees_from_nodes(kind, columns, num_classes, nodes), spec=spec)


def _onehot_groups(stage: Path) -> dict[str, list[str]]:
    """The one-hot groups of sweep's categorical SQLTransformer; any other SQL is refused."""
    groups = groups_of(_param(_metadata(stage), "statement") or "")
    if groups is None:
        raise UnsupportedModel(
            "its SQLTransformer is not the one-hot → category index statement of "
            "data.features=categorical",
            where=str(stage),
            fix="The JVM-free scorer reproduces only sweep's own encoding stages",
        )
    return groups


def trees_from_nodes(kind: str, columns: tuple[str, ...], num_classes: int, t: pa.Table) -> Trees:
    """Spark's node rows (treeID, id, impurityStats, leftChild, rightChild, split.*) → Trees.

    Node ids count from 0 in each tree (pre-order: children after their parent); the flat arrays
    put tree 0's nodes first, then tree 1's, so a node's index is its tree's offset plus its id.
    A regressor (num_classes 0) keeps each node's `prediction` as its value.
    """
    t = t.sort_by([("treeID", "ascending"), ("id", "ascending")])
    tree_id = t["treeID"].to_numpy().astype(np.int64)
    ids = t["id"].to_numpy().astype(np.int64)
    sizes = np.bincount(tree_id)
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    if (sizes == 0).any() or not np.array_equal(ids, np.arange(len(ids)) - offsets[tree_id]):
        raise UnsupportedModel("the node ids are not 0..n-1 in each tree", where="model data")
    base = offsets[tree_id]
    left_id = t["leftChild"].to_numpy().astype(np.int64)
    right_id = t["rightChild"].to_numpy().astype(np.int64)
    leaf = left_id < 0
    feature = t["split.featureIndex"].to_numpy().astype(np.int64)
    num_cat = t["split.numCategories"].to_numpy().astype(np.int64)
    values = t["split.leftCategoriesOrThreshold"].combine_chunks()
    first = pc.list_element(_fill_empty(values), 0).to_numpy(zero_copy_only=False)
    categorical = ~leaf & (num_cat >= 0)
    cat_rows = np.flatnonzero(categorical)
    sets = _category_sets(values, cat_rows, num_cat[cat_rows])
    category_set = np.full(len(ids), -1, dtype=np.int32)
    category_set[cat_rows] = np.arange(len(cat_rows), dtype=np.int32)
    regressor = kind in REGRESSORS  # its nodes' own `prediction` is what it predicts
    counts = np.zeros((len(ids), 0)) if regressor else _counts(t["impurityStats"], num_classes)
    node_values = t["prediction"].to_numpy().astype(float) if regressor else np.zeros(0)
    return Trees(
        kind=kind,
        columns=columns,
        num_classes=num_classes,
        roots=offsets.astype(np.int32),
        feature=np.where(leaf, -1, feature).astype(np.int32),
        threshold=np.where(leaf | categorical, np.nan, first),
        left=np.where(leaf, -1, base + left_id).astype(np.int32),
        right=np.where(leaf, -1, base + right_id).astype(np.int32),
        category_set=category_set,
        counts=counts,
        values=node_values,
        **sets,
    )


def _category_sets(values: pa.ListArray, rows: np.ndarray, num_cat: np.ndarray) -> dict:
    """One row per categorical split: which categories go left, and where an unseen value goes.

    Spark keeps the smaller side: with more than numCategories // 2 left categories it stores the
    right ones and sends everything else, an unseen value too, left (`CategoricalSplit.isLeft`).
    """
    width = int(num_cat.max()) if len(num_cat) else 0
    mask = np.zeros((len(rows), width), dtype=bool)
    sizes = np.zeros(len(rows), dtype=np.int64)
    for i, row in enumerate(rows.tolist()):  # categorical splits are few; a loop is fine
        categories = np.asarray(values[row].values.to_numpy(), dtype=np.int64)
        mask[i, categories] = True
        sizes[i] = len(categories)
    return {
        "left_categories": mask,
        "num_categories": num_cat.astype(np.int32),
        "unseen_left": ~(sizes <= num_cat // 2),
    }


def _counts(stats: pa.ChunkedArray, num_classes: int) -> np.ndarray:
    stats = stats.combine_chunks()
    lengths = pc.list_value_length(stats).to_numpy(zero_copy_only=False)
    if (lengths != num_classes).any():
        raise UnsupportedModel(
            f"impurityStats do not hold {num_classes} class counts per node (a regressor?)",
            where="model data",
        )
    return stats.flatten().to_numpy().astype(np.float64).reshape(-1, num_classes)


def _fill_empty(values: pa.ListArray) -> pa.ListArray:
    """Leaves may store an empty list; give every node a first element to read."""
    lengths = pc.list_value_length(values).to_numpy(zero_copy_only=False)
    if (lengths > 0).all():
        return values
    return pa.array([v if len(v) else [np.nan] for v in values.to_pylist()])


def _node_table(data: Path, nested: bool) -> pa.Table:
    """The nodes with flat column names; a single tree gets treeID 0."""
    table = pq.read_table(data)
    if nested:  # a forest: treeID, nodeData{id, ..., split{...}}
        table = table.flatten()
        table = table.rename_columns([c.removeprefix("nodeData.") for c in table.column_names])
    else:
        table = table.append_column("treeID", pa.array(np.zeros(len(table), dtype=np.int32)))
    return table.flatten()


def _stage_dirs(path: Path) -> list[Path]:
    if not (path / "stages").is_dir():
        raise UnsupportedModel(
            "not a saved PipelineModel (no stages/ folder)",
            where=str(path),
            fix="Pass the directory PipelineModel.save wrote (a logged model's sparkml/)",
        )
    return sorted((path / "stages").iterdir(), key=lambda p: int(p.name.split("_", 1)[0]))


def _metadata(stage: Path) -> dict:
    part = sorted((stage / "metadata").glob("part-*"))[0]
    return json.loads(part.read_text().splitlines()[0])


def _param(metadata: dict, name: str):
    return metadata["paramMap"].get(name, metadata.get("defaultParamMap", {}).get(name))
