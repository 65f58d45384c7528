"""docs/ui-curves.png: the depth curve and the tree curve of a real forest trial in the MLflow UI.

    python bench/ui_curves.py --data ../shared/data/covtype/covtype-sample100k.data.gz

One forest trial on real Covtype (sweep.curves: fitted at 12 trees of depth 25, scored at every
depth from 5 and with its first 2..12 trees), `mlflow ui` over its store, and Debian's chromium
(through Playwright, no browser download) on the child run's "Model metrics" tab. By hand, not in
CI (tests/test_mlflow_ui.py checks the same tab on the smoke sweep).
"""

from __future__ import annotations

import argparse
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
OVERRIDES = [
    "+experiment=forest", "sweep.max_evals=1", "sweep.progress_bar=false",
    "search.num_trees.low=2", "search.num_trees.high=12",
    "search.max_depth.low=5", "search.max_depth.high=25", "registry.enabled=false",
]  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--data", required=True, type=Path)
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "ui-curves.png")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="sweep-ui-curves-"))
    uri = f"sqlite:///{work / 'mlflow.db'}"
    command = [sys.executable, "-m", "sweep", *OVERRIDES, f"data.path={args.data.resolve()}",
               f"tracking.uri={uri}", f"hydra.run.dir={work / 'out'}"]  # fmt: skip
    subprocess.run(command, cwd=work, check=True)
    from mlflow.tracking import MlflowClient

    client = MlflowClient(uri)
    child = client.search_runs(
        [e.experiment_id for e in client.search_experiments()], "tags.`sweep.role` = 'trial'"
    )[0]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ui = subprocess.Popen(
        [str(BIN / "mlflow"), "ui", "--backend-store-uri", uri, "--port", str(port)],
        cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(120):
            try:
                urllib.request.urlopen(f"{base}/health", timeout=2)
                break
            except OSError:
                time.sleep(1)
        shoot(f"{base}/#/experiments/{child.info.experiment_id}/runs/{child.info.run_id}"
              "/model-metrics", args.out)  # fmt: skip
    finally:
        ui.kill()
    print(f"wrote {args.out}")


def shoot(url: str, out: Path) -> None:
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1500, "height": 1000})
        page.set_default_timeout(90_000)
        page.goto(url, wait_until="load")
        page.get_by_text("accuracy_by_trees").first.wait_for()
        close = page.get_by_role("button", name="Close")  # the MLflow Assistant side panel
        if close.count():
            close.first.click()
        search = page.get_by_placeholder("Search metric charts")
        if search.count():
            search.first.fill("accuracy_by")  # the two curves side by side
        page.wait_for_function(
            "n => document.querySelectorAll('.js-plotly-plot .main-svg').length >= n", arg=2
        )
        page.wait_for_timeout(1500)
        page.screenshot(path=str(out))
        browser.close()


if __name__ == "__main__":
    main()
