"""Register a sweep's winner in the MLflow Model Registry and decide whether it becomes champion.

The alias (default `champion`) moves to the new version only when its test metric is at least as
good as the current champion's (`promote=if_better`; the metric's direction decides: a lower rmse
is better) or always (`promote=always`). The decision and both values
are tagged on the new version, so the registry itself says why. Aliases, not the deprecated stages.

Two sweeps that finish at once may both read the same champion, both decide to promote, and the
worse one may move the alias last. With `promote=if_better`, after moving the alias a sweep
settles it: among the versions registered since the champion it compared with that were promoted,
the best test metric (the newest on a tie, as `>=` would) gets the alias, checked twice. The
sweep that lost says so in its registration. `promote=always` is last-writer-wins by design.
"""

from __future__ import annotations

import logging
import subprocess
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from sweep import run_keys, tasks
from sweep.config import RegistrySettings
from sweep.records import Registration

if TYPE_CHECKING:
    from sweep.tracking.runs import Tracker

log = logging.getLogger(__name__)
SETTLE_CHECKS = 2
SETTLE_PAUSE_S = 0.5


@dataclass(frozen=True)
class Candidate:
    """What is registered: the winning child's model and the numbers it won with."""

    model_uri: str
    parent_run_id: str
    child_run_id: str
    metric: str
    validation_value: float
    test_metrics: dict[str, float]
    data_sha256: str | None
    description: str = ""  # the version's description (Markdown, see sweep.story.version_note)
    # The JVM-free scorer against Spark on the test split: `agree/total`, and whether every row
    # (and probability) agreed. A version that disagrees is registered, never promoted.
    parity: str | None = None
    parity_ok: bool = True

    @property
    def test_value(self) -> float:
        return self.test_metrics[self.metric]


def decide(promote: str, metric: str, new: float, champion: float | None) -> tuple[bool, str]:
    """Pure: whether the new version takes the alias, and the sentence that says why."""
    if champion is None:
        return True, f"no champion yet; test {metric} {new:.4f}"
    if promote == "always":
        return True, f"promote=always; test {metric} {new:.4f} (champion had {champion:.4f})"
    if tasks.at_least_as_good(metric, new, champion):
        sign = "<=" if tasks.lower_is_better(metric) else ">="
        return True, f"test {metric} {new:.4f} {sign} champion's {champion:.4f}"
    sign = ">" if tasks.lower_is_better(metric) else "<"
    return False, f"test {metric} {new:.4f} {sign} champion's {champion:.4f}; champion kept"


def register(tracker: Tracker, cfg: RegistrySettings, c: Candidate) -> Registration:
    client = tracker.client
    _ensure_model(client, cfg.model_name)
    champion = _champion(client, cfg.model_name, cfg.alias)
    champion_value = _tag_float(champion, f"{run_keys.TEST}{c.metric}") if champion else None
    if champion is not None and champion_value is None and cfg.promote != "always":
        promoted, reason = (
            False,
            (
                f"champion version {champion.version} has no test_{c.metric} tag to compare with; "
                "champion kept (registry.promote=always moves it)"
            ),
        )
    else:
        promoted, reason = decide(cfg.promote, c.metric, c.test_value, champion_value)
    if not c.parity_ok:
        promoted, reason = (
            False,
            (
                f"the JVM-free scorer agrees with Spark on only {c.parity} test rows, so what "
                "would be served is not what was evaluated; registered, not promoted"
            ),
        )
    tags = {
        "parent_run_id": c.parent_run_id,
        "child_run_id": c.child_run_id,
        "metric": c.metric,
        f"validation_{c.metric}": f"{c.validation_value:.6f}",
        **{f"{run_keys.TEST}{k}": f"{v:.6f}" for k, v in c.test_metrics.items()},
        run_keys.DATA_SHA256: c.data_sha256 or "unknown",
        **({run_keys.PARITY: c.parity} if c.parity else {}),
        "promotion": ("promoted: " if promoted else "not promoted: ") + reason,
    }
    commit = git_commit()
    if commit:
        tags["git_commit"] = commit
    # Through this client, not mlflow.register_model: that one uses the process-wide registry.
    version = client.create_model_version(
        cfg.model_name,
        _source(client, c.model_uri),
        run_id=c.child_run_id,
        tags=tags,
        description=c.description or None,
    )
    number = int(version.version)
    if promoted:
        client.set_registered_model_alias(cfg.model_name, cfg.alias, number)
        if cfg.promote == "if_better":
            since = int(champion.version) if champion else 0
            holder = settle(client, cfg.model_name, cfg.alias, c.metric, since)
            if holder != number:
                promoted = False
                reason = (
                    f"version {holder}, registered at the same time, has the better test "
                    f"{c.metric}; it keeps the alias"
                )
                client.set_model_version_tag(
                    cfg.model_name, str(number), "promotion", f"superseded: {reason}"
                )
    log.info("Registered %s version %d: %s", cfg.model_name, number, reason)
    return Registration(
        cfg.model_name,
        number,
        cfg.alias,
        promoted,
        reason,
        int(champion.version) if champion else None,
    )


def settle(client: MlflowClient, name: str, alias: str, metric: str, since: int) -> int:
    """Point `alias` at the best promoted version newer than `since`; returns that version."""
    best = None
    for attempt in range(SETTLE_CHECKS):
        if attempt:
            time.sleep(SETTLE_PAUSE_S)  # a concurrent sweep's late alias move lands meanwhile
        contenders = [
            (value, int(v.version))
            for v in client.search_model_versions(f"name = '{name}'")
            if int(v.version) > since
            and v.tags.get("promotion", "").startswith("promoted")
            and (value := _tag_float(v, f"{run_keys.TEST}{metric}")) is not None
        ]
        # the best value, the newest version among equals (as `>=` promoted it)
        best = max(contenders, key=lambda vc: (tasks.score(metric, vc[0]), vc[1]))[1]
        holder = _champion(client, name, alias)
        if holder is None or int(holder.version) != best:
            log.info("Moving %s@%s to version %d (registered concurrently)", name, alias, best)
            client.set_registered_model_alias(name, alias, best)
    return best


def _source(client: MlflowClient, model_uri: str) -> str:
    """runs:/<run>/<path> → the artifact location the registry stores as the version's source."""
    if not model_uri.startswith("runs:/"):
        return model_uri
    run_id, _, path = model_uri[len("runs:/") :].partition("/")
    return f"{client.get_run(run_id).info.artifact_uri.rstrip('/')}/{path}"


def _ensure_model(client: MlflowClient, name: str) -> None:
    try:
        client.get_registered_model(name)
    except MlflowException:
        client.create_registered_model(name, description="Spark decision trees tuned by sweep.")


def _champion(client: MlflowClient, name: str, alias: str):
    try:
        return client.get_model_version_by_alias(name, alias)
    except MlflowException:
        return None


def _tag_float(version, key: str) -> float | None:
    value = version.tags.get(key)
    return float(value) if value is not None else None


def git_commit() -> str | None:
    """The commit of the working directory's checkout, when there is one."""
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None
