"""Owns warm starts (`sweep.warm_start`): which earlier sweep seeds TPE, its checks, and its trials
in this sweep's hyperopt history.

The prior is another sweep's parent run in the same tracking store: by run id (in any experiment)
or `last`, the newest sweep parent of the same model family in this sweep's experiment (finished
or not), other than the sweep being resumed. Its family must be one this sweep searches (a
`model=auto` prior serves a one-family sweep with that family's trials, and the other way round).
Its FINISHED children that lie inside the current search space (their encoding too: one this sweep
fits on), with the points of their validation curves, become TPE observations before this sweep's
own (`sweep.search.observations`, source `prior`), so TPE models them from the first trial
(they count toward `sweep.n_startup_jobs`, which hyperopt compares with every observation in the
history). They do not count toward
`sweep.max_evals`, are not children of this sweep's parent, and never win: the prior's models were
fitted on other data, perhaps other rows.

Everything that can refuse a prior runs before the data is prepared and before any run exists.
A resumed sweep re-reads the prior its parent recorded (`warm_start_run_id`), so it goes on with
the same history; resume.py's functions read the children, this module only chooses them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sweep import run_keys
from sweep.config import AUTO, SweepConfig
from sweep.errors import ConfigError
from sweep.models import family
from sweep.records import TrialRecord
from sweep.search.resume import curves_of, record_of
from sweep.search.space import SearchSpace
from sweep.tracking import history
from sweep.tracking.runs import Tracker

if TYPE_CHECKING:
    from sweep.tracking.history import Run

log = logging.getLogger(__name__)

WHERE = "sweep.warm_start"


@dataclass(frozen=True)
class Prior:
    run_id: str
    experiment_id: str
    data_sha256: str | None
    records: list[TrialRecord]  # its finished trials inside the current search space, in order

    def params(self) -> dict[str, Any]:
        """What this sweep's parent records about its prior."""
        return {
            run_keys.WARM_START_RUN_ID: self.run_id,
            run_keys.WARM_START_TRIALS: len(self.records),
        }


def reference(requested: str | None, recorded: str | None, resumed: str | None) -> str | None:
    """Pure: which prior to use. `requested` is sweep.warm_start, `recorded` the prior the resumed
    sweep `resumed` recorded (both None when not resuming).

    A resumed sweep keeps the prior it started with: `last` and an omitted key mean it (so the
    command an interrupted sweep prints works as it is), another run id is refused. A sweep that
    started cold is resumed cold: a resume cannot add a prior to a history already partly run.
    """
    if resumed is None:
        return requested
    if recorded is None:
        if requested is None:
            return None
        raise ConfigError(
            f"sweep {resumed} started without a warm start, so it cannot be resumed with one",
            where=WHERE,
            fix="Resume without sweep.warm_start, or start a new sweep with it",
        )
    if requested in (None, "last", recorded):
        return recorded
    raise ConfigError(
        f"sweep {resumed} was warm-started from {recorded}, not {requested}",
        where=WHERE,
        fix=f"Resume with sweep.warm_start={recorded} (or without the key), or start a new sweep",
    )


def find_prior(tracker: Tracker, cfg: SweepConfig) -> Prior | None:
    """The prior sweep.warm_start names (on resume: the one recorded), checked; None without one.
    Raises ConfigError for an unknown run, a run that is not a sweep parent, another model
    family, or a sweep without a usable trial. Creates no run."""
    resumed = recorded = None
    if cfg.sweep.resume:  # the same lookup resume does later, before the data this time
        parent = history.find_parent(
            tracker, cfg.sweep.resume, tracker.experiment_id, "sweep.resume"
        )
        resumed = parent.info.run_id
        recorded = parent.data.params.get(run_keys.WARM_START_RUN_ID)
    ref = reference(cfg.sweep.warm_start, recorded, resumed)
    if ref is None:
        return None
    excluded = {resumed, tracker.parent_run_id} - {None}
    if ref == "last":
        parent = _last(tracker, cfg, excluded)
    else:
        parent = history.find_parent(tracker, ref, tracker.experiment_id, WHERE)
    prior_family = check_family(parent, cfg)
    prior_features = parent.data.params.get(run_keys.FEATURES, "onehot")
    finished = []
    for child in history.children(tracker, parent, finished_only=True):
        if cfg.sweep.metric in child.data.metrics:
            record = record_of(child, prior_family, prior_features)
            record.curves = curves_of(tracker, child, cfg.sweep.metric)  # its curves' points too
            finished.append(record)
    prior = Prior(
        parent.info.run_id,
        parent.info.experiment_id,
        parent.data.params.get(run_keys.DATA_SHA256),
        usable(finished, cfg, parent.info.run_id, parent.data.tags.get(run_keys.SEARCH_SPACE)),
    )
    log.info(
        "Warm start from sweep %s: %d of its finished trials seed TPE",
        prior.run_id,
        len(prior.records),
    )
    return prior


def check_family(parent: Run, cfg: SweepConfig) -> str:
    """The prior's family (model=...), if this sweep can use its trials: the same family, or
    one side `auto` searching the other's (its other families' trials then lie outside)."""
    recorded = parent.data.params.get(run_keys.FAMILY, "dtree")  # sweeps before families: trees
    wanted = cfg.model.family
    if recorded == AUTO or recorded in SearchSpace.of(cfg).families:
        return recorded
    raise ConfigError(
        f"sweep {parent.info.run_id} tuned model={recorded}, this sweep tunes model={wanted}; "
        "a prior's trials must be of a family this sweep searches",
        where=WHERE,
        fix=f"Pass a model={wanted} sweep, or add model={recorded}",
    )


def usable(
    finished: list[TrialRecord], cfg: SweepConfig, prior_id: str, prior_space: str | None = None
) -> list[TrialRecord]:
    """The prior's finished trials that lie inside the current search space (a warning says how
    many do not); none at all is a ConfigError. `prior_space`: its recorded space, for the
    message."""
    space = SearchSpace.of(cfg)
    kept = [
        r
        for r in finished
        if r.family in space.branches
        and space.vals(r.family, r.params, family(r.family).PARAMS, r.features) is not None
    ]
    if not finished:
        raise ConfigError(
            f"sweep {prior_id} has no finished trial with a validation {cfg.sweep.metric}",
            where=WHERE,
            fix="Pass a sweep with finished trials, or drop sweep.warm_start",
        )
    if not kept:
        raise ConfigError(
            f"none of the {len(finished)} finished trials of sweep {prior_id} lies inside this "
            f"sweep's search space ({space.tag()}, features {'/'.join(space.encodings())}; the "
            f"prior's: {prior_space or 'not recorded'})",
            where=WHERE,
            fix="Widen search.* to include the prior's trials, pass another sweep, or drop "
            "sweep.warm_start",
        )
    if len(kept) < len(finished):
        log.warning(
            "Warm start: %d of the %d finished trials of sweep %s lie outside the current "
            "search space; TPE ignores them",
            len(finished) - len(kept),
            len(finished),
            prior_id,
        )
    return kept


def note_data(prior: Prior, sha256: str | None) -> None:
    """Other data is allowed (a sample's sweep is a fine prior for the full data), but said."""
    if prior.data_sha256 not in (None, "unknown") and prior.data_sha256 != (sha256 or "unknown"):
        log.info(
            "Warm start: sweep %s ran on other data (sha256 %s, this sweep's %s); its trials "
            "guide TPE, the winner is one of this sweep's own",
            prior.run_id,
            prior.data_sha256,
            sha256,
        )


def _last(tracker: Tracker, cfg: SweepConfig, excluded: set[str]) -> Run:
    parents = tracker.client.search_runs(
        [tracker.experiment_id],
        f"tags.`{run_keys.ROLE}` = 'parent'",
        order_by=["attributes.start_time DESC"],
        max_results=1000,
    )
    for run in parents:
        if (
            run.info.run_id not in excluded
            and run.data.params.get(run_keys.FAMILY, "dtree") == cfg.model.family
        ):
            return run
    raise ConfigError(
        f"there is no other model={cfg.model.family} sweep in this sweep's experiment "
        f"({cfg.tracking.experiment!r})",
        where=WHERE,
        fix="Run a sweep first, or pass a parent run id (from any experiment of the store)",
    )
