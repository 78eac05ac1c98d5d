"""Browser journey: the real app under `streamlit run`, driven in Debian Chromium via Playwright."""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.conftest import ROOT

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail("chromium is missing: scripts/setup.sh should have installed it")
        pytest.skip("Debian chromium is not installed")
    home = tmp_path_factory.mktemp("browser-home")
    port = _free_port()
    env = dict(os.environ, WORKBENCH_HOME=str(home), HF_HUB_OFFLINE="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as r:
                if r.status == 200:
                    break
        except OSError:
            time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail("streamlit did not start: " + proc.stdout.read().decode(errors="replace")[-2000:])
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


def test_search_a_taxonomy_node(app_url, browser, output_dir):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(30000)
    page.goto(app_url)
    page.get_by_role("heading", name="Annotate").wait_for()
    # Choose the active taxonomy in the sidebar, then go to Taxonomies: the choice must survive.
    page.get_by_role("combobox", name="Active taxonomy").click()
    page.get_by_role("option", name="FORD fields of science (levels 1-2)").click()
    page.get_by_role("link", name="Taxonomies").click()
    page.get_by_text("FORD fields of science (levels 1-2) · built-in").wait_for()
    page.get_by_role("heading", name="Taxonomies").wait_for()
    box = page.get_by_label("Search by code or name")
    box.fill("szamitastudomany")
    box.press("Enter")
    try:
        # The best hit is preselected in "Open a result" (the results table is a canvas grid).
        page.locator(".st-key-taxonomies-open button").click()
        page.get_by_role("heading", name="1.2 · Computer and information sciences").wait_for()
        page.locator("[data-testid=stMarkdownContainer]", has_text="Natural sciences › Computer and information sciences").first.wait_for()
    finally:
        page.screenshot(path=str(output_dir / "taxonomies-search.png"), full_page=True)
        page.close()
