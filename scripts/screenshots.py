"""Regenerate the guides' pictures (docs/images) from the browser tests: run the journeys that take
them, in Chromium on the built-in default models, then copy each picture a guide shows. A picture
is never edited by hand; a test checks that every picture in docs/images is listed here.

    .venv/bin/python scripts/screenshots.py          (the set-up must have run: models, chromium)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "test-output"  # where the browser tests write their screenshots
IMAGES = ROOT / "docs" / "images"

# docs/images/<name>: (the test that takes it, its file in test-output/)
SHOTS = {
    "annotate.png": ("tests/test_browser.py::test_label_fifty_records_with_the_keyboard", "annotate-keyboard.png"),
    "interface-hungarian.png": ("tests/test_browser.py::test_the_interface_switches_to_hungarian",
                                "interface-hungarian.png"),
    "import.png": ("tests/test_browser.py::test_every_page_screenshot", "page-import-1440x900.png"),
    "bulk-classify.png": ("tests/test_browser.py::test_bulk_upload_progress_download", "bulk-classify.png"),
    "performance.png": ("tests/test_browser.py::test_performance_dashboard_screenshot", "performance-bubbles.png"),
    "retrain.png": ("tests/test_browser_loop.py::"
                    "test_a_coded_collection_one_click_retrain_names_its_recipe_baseline_and_records",
                    "coded-1-retrained.png"),
    "promoted.png": ("tests/test_browser_loop.py::test_promote_and_roll_back_control_the_hungarian_cards",
                     "loop-3-promoted.png"),
    "team.png": ("tests/test_browser_team.py::test_a_lead_runs_a_double_coded_round_in_the_browser", "team-page.png"),
}


def main() -> int:
    tests = sorted({test for test, _ in SHOTS.values()})
    started = {name: (OUTPUT / shot).stat().st_mtime if (OUTPUT / shot).exists() else 0.0
               for name, (_, shot) in SHOTS.items()}
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", CI="1")
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *tests], cwd=ROOT, env=env,
                         check=False)
    if run.returncode:
        print("the browser journeys failed: no picture was replaced", file=sys.stderr)
        return run.returncode
    stale = [shot for name, (_, shot) in SHOTS.items()
             if not (OUTPUT / shot).exists() or (OUTPUT / shot).stat().st_mtime <= started[name]]
    if stale:
        print(f"not taken by this run: {', '.join(stale)}; no picture was replaced", file=sys.stderr)
        return 1
    IMAGES.mkdir(parents=True, exist_ok=True)
    for name, (_, shot) in SHOTS.items():
        shutil.copyfile(OUTPUT / shot, IMAGES / name)
        print(f"docs/images/{name} <- {shot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
