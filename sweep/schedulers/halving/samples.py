"""Owns the rungs' samples of the training split (sweep.scheduler=halving): prepared once per
sweep, nested, seeded, persisted; unpersisted when the search ends.

One uniform value per training row is drawn once (`F.rand(seed)` in its own column, see
PITFALLS: two comparisons on one `F.rand` expression are two draws) and persisted; the rung of
fraction f keeps the rows whose value is below f. So every rung's sample holds the samples of the
rungs below it, and a configuration promoted to a higher rung sees more of the same rows. The
samples keep the training split's partitions: a tree depends on the partitioning (PITFALLS).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from sweep.errors import DataError

log = logging.getLogger(__name__)
DRAW_COL = "_fidelity"


@contextmanager
def rung_samples(
    train: DataFrame, fractions: Sequence[float], seed: int
) -> Iterator[list[DataFrame]]:
    """One persisted DataFrame per rung fraction, in order; fraction 1.0 is `train` itself."""
    drawn = train.withColumn(DRAW_COL, F.rand(seed)).persist()
    samples: list[DataFrame] = []
    try:
        for fraction in fractions:
            if fraction >= 1.0:
                samples.append(train)
                continue
            sample = drawn.filter(F.col(DRAW_COL) < fraction).drop(DRAW_COL).persist()
            rows = sample.count()
            if rows == 0:
                raise DataError(
                    f"the {fraction:.3g} sample of the training split is empty",
                    where="sweep.fidelity.min_fraction",
                    fix="Use a larger min_fraction or more training rows",
                )
            log.info("Halving: rung sample %.3g of the training split: %d rows", fraction, rows)
            samples.append(sample)
        drawn.unpersist()  # the samples are materialized; the draw is not needed any more
        yield samples
    finally:
        drawn.unpersist()
        for sample in samples:
            if sample is not train:
                sample.unpersist()
