"""What a user sees of a finished sweep in `mlflow ui`, checked in a real browser.

Playwright for Python drives Debian's `chromium` (no browser download) against `mlflow ui` on a free
loopback port, over the session's smoke sweep. The UI keeps polling, so pages are waited for by
their content, never by network idleness. With SWEEP_SCREENSHOTS=docs the screenshots the README
shows are written to docs/; otherwise to a temporary folder.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from sweep.story import RUNS_VIEW, best_so_far_key, runs_page
from tests.conftest import ROOT
from tests.services import BIN, answers, env_with_bin, free_port, missing, process

pytestmark = pytest.mark.slow

CHROMIUM_ARGS = [
    "--no-sandbox",  # root (CI, containers) has no user namespace sandbox
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1500, "height": 900}
# The charts are Plotly's; each drawn one has a `.main-svg`, while loading only a spinner.
PLOTS_DRAWN = "n => document.querySelectorAll('.js-plotly-plot .main-svg').length >= n"
EXPANDER = "runnamecellrenderer"  # the run-name cell's expand button (its component id)


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    if os.environ.get("SWEEP_SCREENSHOTS") == "docs":
        return ROOT / "docs"
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture(scope="module")
def ui(smoke_sweep, tmp_path_factory) -> Iterator[str]:
    """`mlflow ui` over the smoke sweep's store, as the summary tells users to start it."""
    _, result, _ = smoke_sweep
    folder = tmp_path_factory.mktemp("mlflow-ui")
    port = free_port()
    command = [str(BIN / "mlflow"), "ui", "--backend-store-uri", result.tracking_uri,
               "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    # Killed, not asked to stop: it only reads, and waits ~20 s on SIGTERM.
    ready = answers(f"{url}/health")
    with process(command, folder / "ui.log", ready, env=env_with_bin(), stop_signal=signal.SIGKILL):
        yield url


@pytest.fixture(scope="module")
def page(ui) -> Iterator:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("Playwright", "pip install -e '.[test]' (it is in the test extra)")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        missing("chromium", "sudo apt-get install chromium (.ci/run does)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport=VIEWPORT)
            page.set_default_timeout(60_000)
            yield page
        finally:
            browser.close()


def open_page(page, url: str, ready_text: str) -> None:
    """A fresh load, as a user opening the link gets, not a same-document (#) navigation that
    would start from the state the previous test left in the app."""
    page.goto("about:blank")
    page.goto(url, wait_until="load")
    page.get_by_text(ready_text).first.wait_for()
    close = page.get_by_role("button", name="Close")  # the MLflow Assistant side panel
    if close.count():
        close.first.click()


def test_runs_table_shows_configurations_data_and_the_registered_winner(
    page, ui, smoke_sweep, shots
):
    cfg, result, _ = smoke_sweep
    # The summary's link, pointed at this UI: the runs table, not the GenAI overview.
    open_page(page, runs_page(result.tracking_uri, result.experiment_id, ui), "smoke-sweep")
    expand(page, result.trials[0].name)
    for trial in result.trials:
        page.get_by_text(trial.name, exact=True).first.wait_for()
    assert re.fullmatch(r"t00 d\d+ b\d+ (gini|entropy)", result.trials[0].name)
    rows = page.locator(".ag-center-cols-container [role=row]")
    assert rows.count() == 1 + len(result.trials)  # the parent, expanded into its children
    dataset = "synthetic-covtype"
    assert all(dataset in rows.nth(i).inner_text() for i in range(rows.count()))
    assert "Train" in rows.nth(0).inner_text()
    reg = result.registration
    models = page.locator("[role=gridcell] a", has_text=reg.name)
    assert models.count() == 1  # only the winner has a registered version
    winner = models.first.locator("xpath=ancestor::*[@role='row']").get_attribute("row-index")
    names = page.locator(f".ag-pinned-left-cols-container [row-index='{winner}'], "
                         f".ag-center-cols-container [row-index='{winner}']")  # fmt: skip
    assert result.best.name in " ".join(names.all_inner_texts())
    assert f"v{reg.version}" in " ".join(names.all_inner_texts())
    show_column(page, cfg.sweep.metric)  # metrics hide behind "Show more columns"
    page.screenshot(path=shots / "ui-runs.png")


def expand(page, child_name: str) -> None:
    """Expand the parent row into its children (the UI remembers it: only when collapsed)."""
    from playwright.sync_api import TimeoutError

    try:
        page.get_by_text(child_name, exact=True).first.wait_for(timeout=3000)
    except TimeoutError:
        page.locator(f"[role=gridcell] button[data-component-id*='{EXPANDER}']").first.click()


def show_column(page, name: str) -> None:
    page.get_by_role("button", name="Columns").click()
    page.get_by_placeholder("Search columns").fill(name)
    # The matches' text is highlighted (<strong>); the exact name's label is the whole span.
    page.locator("span:has(> strong)").filter(has_text=re.compile(f"^{name}$")).first.click()
    page.keyboard.press("Escape")
    page.locator(".ag-header-cell", has_text=re.compile(rf"^\s*{name}\s*$")).first.wait_for()


def test_chart_view_draws_named_trials_and_the_search_history(page, ui, smoke_sweep, shots):
    cfg, result, _ = smoke_sweep
    open_page(page, runs_page(result.tracking_uri, result.experiment_id, ui), "smoke-sweep")
    expand(page, result.trials[0].name)
    page.locator("label:has(input[name=runs-view-mode][value=CHART])").click()
    history = best_so_far_key(cfg.sweep.metric)
    # sweep.curves adds a stepped metric per task metric: show the selection metric's charts
    search = page.get_by_placeholder(re.compile("Search metric charts", re.IGNORECASE))
    if search.count():
        search.first.fill(cfg.sweep.metric)
    page.get_by_text(history, exact=True).first.wait_for()
    # Once in the run list on the left, and again in a chart's legend.
    page.get_by_text(result.trials[0].name, exact=True).nth(1).wait_for()
    page.wait_for_function(PLOTS_DRAWN, arg=3)
    page.screenshot(path=shots / "ui-charts.png")

    if search.count():
        search.first.fill("")  # the "Add chart" button shows with no filter
    page.get_by_role("button", name="Add chart").first.click()
    page.get_by_role("menuitem", name="Parallel coordinates").click()
    dialog = page.get_by_role("dialog")
    boxes = dialog.locator("[role=combobox]")
    for box, names in ((1, ["maxDepth", "maxBins", "impurity"]), (2, [cfg.sweep.metric])):
        boxes.nth(box).click()
        for name in names:
            page.keyboard.type(name)
            page.locator(f"[class*=select-item-option][title='{name}']").click()
        page.keyboard.press("Escape")
    dialog.locator("svg text", has_text="maxBins").first.wait_for()
    dialog.screenshot(path=shots / "ui-parallel.png")
    dialog.get_by_role("button", name="Add chart").click()


def test_parent_description_tells_the_outcome(page, ui, smoke_sweep, shots):
    cfg, result, _ = smoke_sweep
    url = f"{ui}/#/experiments/{result.experiment_id}/runs/{result.parent_run_id}{RUNS_VIEW}"
    open_page(page, url, "best parameters")
    best = ", ".join(f"{k}={v}" for k, v in {"family": "dtree", **result.best.params}.items())
    page.get_by_text(f"best parameters: {best}").wait_for()
    page.get_by_text(f"Top {min(5, len(result.trials))} of").wait_for()
    assert page.get_by_role("link", name=result.best.name).count() >= 1
    page.get_by_role("link", name=result.trials[-1].name).first.wait_for()  # "Child runs"
    more = page.get_by_text("Show more", exact=True)
    if more.count():  # the UI folds a long description
        more.first.click()
    page.get_by_text(f"ended by {result.end_reason}").wait_for()
    page.screenshot(path=shots / "ui-parent.png")


def test_registered_version_describes_and_links_its_sweep(page, ui, smoke_sweep, shots):
    cfg, result, _ = smoke_sweep
    reg = result.registration
    url = f"{ui}/#/models/{reg.name}/versions/{reg.version}{RUNS_VIEW}"
    open_page(page, url, f"sweep {result.parent_run_id}")
    page.get_by_text(f"Trial {result.best.number} of").wait_for()
    page.get_by_text(result.best.name, exact=True).first.wait_for()  # the source run
    # The alias chip renders after the header; not found by its text, so only waited for, for
    # the screenshot (the alias itself is checked through the API in test_registry).
    page.wait_for_timeout(2000)
    page.screenshot(path=shots / "ui-version.png")
    link = page.get_by_role("link", name=f"sweep {result.parent_run_id}")
    sweep = f"#/experiments/{result.experiment_id}/runs/{result.parent_run_id}"
    assert link.get_attribute("href").endswith(sweep)
    if link.get_attribute("target") == "_blank":  # the UI opens description links in a tab
        with page.context.expect_page() as opened:
            link.click()
        target = opened.value
    else:
        link.click()
        target = page
    target.wait_for_url(re.compile(f"runs/{result.parent_run_id}"))
    target.get_by_text("best parameters").first.wait_for()


def test_a_trial_shows_its_validation_curve_by_depth(page, ui, smoke_sweep, shots):
    """sweep.curves: the winner's child draws accuracy against depth on its metrics tab."""
    cfg, result, _ = smoke_sweep
    url = f"{ui}/#/experiments/{result.experiment_id}/runs/{result.best.run_id}/model-metrics"
    open_page(page, url, f"{cfg.sweep.metric}_by_depth")
    page.get_by_text("best_depth").first.wait_for()
    page.wait_for_function(PLOTS_DRAWN, arg=2)
    page.screenshot(path=shots / "ui-curve.png")
