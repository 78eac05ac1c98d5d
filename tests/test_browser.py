"""Browser journey: the real app under `streamlit run`, driven in Debian Chromium via Playwright."""

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from tests.conftest import CHROMIUM, OPEN_PAGES, ROOT, close_open_pages

pytestmark = [pytest.mark.slow, pytest.mark.browser]



def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(home, **settings):
    """A real `streamlit run app.py` on a free port over the workspace folder ``home``: yields its
    url, then stops it. ``settings``: environment variables (WORKBENCH_...)."""
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail("chromium is missing: scripts/setup.sh should have installed it")
        pytest.skip("Debian chromium is not installed")
    port = _free_port()
    env = dict(os.environ, WORKBENCH_HOME=str(home), HF_HUB_OFFLINE="1", **settings)
    log = open(home / "server.log", "wb")  # noqa: SIM115 - a file, not a pipe nobody reads: a full pipe would block the server
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true",
         "--server.fileWatcherType", "none"],  # files the test run writes must not rerun the app
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
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
        log.close()
        pytest.fail("streamlit did not start: " + (home / "server.log").read_text(errors="replace")[-2000:])
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture(scope="module")
def app_server(tmp_path_factory):
    """(url, workspace folder) of a real `streamlit run app.py` on a free port."""
    home = tmp_path_factory.mktemp("browser-home")
    for url in start_server(home):
        yield url, home


@pytest.fixture(scope="module")
def app_url(app_server):
    return app_server[0]


FORD = "FORD fields of science (levels 1-2)"


@pytest.fixture(autouse=True)
def close_pages():
    """Each test's pages are closed after it, so their sessions stop rerunning on the shared server."""
    yield
    close_open_pages()


def open_app(browser, url: str, *, height: int = 1100, timeout: int = 30000, user: str = "", role: str = "",
             **options):
    """A new page on the app (1400 px wide), the name typed and the role (its label, e.g.
    "Librarian") chosen if given, FORD chosen in the sidebar."""
    page = browser.new_page(viewport={"width": 1400, "height": height}, **options)
    OPEN_PAGES.append(page)
    page.set_default_timeout(timeout)
    page.goto(url, wait_until="domcontentloaded")  # then wait for what the test needs, not every resource
    page.get_by_role("heading", name="Subject classification workbench").wait_for()  # the start page
    if user:
        name = page.get_by_role("textbox", name="Your name").first
        name.fill(user)
        name.press("Enter")
        page.get_by_text(f"{user}, as").wait_for()  # the start page names the next step
    if role:
        page.get_by_role("combobox", name="Role").first.click()
        page.get_by_role("option", name=role, exact=True).click()
    page.get_by_role("combobox", name="Active taxonomy").click()
    page.get_by_role("option", name=FORD).click()
    page.get_by_role("link", name="Annotate", exact=True).first.click()
    page.get_by_role("heading", name="Annotate").wait_for()
    # the page's first run ends before the test acts: a choice made while it still draws can be lost
    page.wait_for_timeout(300)
    page.locator("[data-testid='stApp'][data-test-script-state='notRunning']").wait_for()
    return page


def test_search_a_taxonomy_node(app_url, browser, output_dir):
    # Choose the active taxonomy in the sidebar, then go to Taxonomies: the choice must survive.
    page = open_app(browser, app_url, height=1000)
    page.get_by_role("link", name="Taxonomies", exact=True).click()
    page.get_by_text("FORD fields of science (levels 1-2) · built-in").wait_for()
    page.get_by_role("heading", name="Taxonomies").wait_for()
    box = page.get_by_label("Search by code or name")
    box.fill("szamitastudomany")
    box.press("Enter")
    try:
        # The best hit is preselected in "Open a result" (the results table is a canvas grid).
        page.locator(".st-key-taxonomies-hit_open button").click()
        page.get_by_role("heading", name="1.2 · Computer and information sciences").wait_for()
        page.locator("[data-testid=stMarkdownContainer]", has_text="Natural sciences › Computer and information sciences").first.wait_for()
    finally:
        page.screenshot(path=str(output_dir / "taxonomies-search.png"), full_page=True)
        page.close()


def test_label_fifty_records_with_the_keyboard(app_server, browser, output_dir):
    from core.store import Store

    app_url, home = app_server
    page = open_app(browser, app_url, user="Keyboard Kati")
    page.get_by_role("combobox", name="Model", exact=True).click()
    page.get_by_role("option", name="ford-tfidf").click()
    page.locator(".st-key-annotate-open button").click()
    page.get_by_text("Labelled 0 · skipped 0 ·").wait_for()
    page.get_by_text("Keyboard: ").wait_for()
    try:
        page.evaluate("document.activeElement && document.activeElement.blur()")  # keys go to the page
        keys = ["1", "a", "2", "x", "s"] * 10  # 50 actions: accept top / second, reject, skip
        idle = page.locator("[data-testid='stApp'][data-test-script-state='notRunning']")
        seconds = []
        labelled = skipped = 0
        for key in keys:
            start = time.perf_counter()
            page.keyboard.press(key)
            labelled, skipped = (labelled, skipped + 1) if key == "s" else (labelled + 1, skipped)
            page.get_by_text(f"Labelled {labelled} · skipped {skipped} ·").wait_for()  # a skip is not a label
            page.locator(".st-key-annotate-pick-1 button").first.wait_for()  # the next record's suggestions
            seconds.append(time.perf_counter() - start)
            idle.wait_for()  # the next record is fully drawn
        import json
        import statistics

        (output_dir / "annotate-key-latency.json").write_text(json.dumps({
            "presses": len(seconds), "median_s": round(statistics.median(seconds), 3),
            "p95_s": round(sorted(seconds)[int(0.95 * len(seconds)) - 1], 3), "max_s": round(max(seconds), 3)}))
        page.keyboard.press("u")  # undo the last skip: back to that record
        page.get_by_text("Labelled 40 · skipped 9 ·").wait_for()
        idle.wait_for()
        page.keyboard.press("p")
        idle.wait_for()
        page.keyboard.press("n")
        page.get_by_text("Labelled 40 · skipped 9 ·").wait_for()
    finally:
        page.screenshot(path=str(output_dir / "annotate-keyboard.png"), full_page=True)
        page.close()
    with Store(home / "workbench.db") as db:
        events = list(reversed(db.latest_events("Keyboard Kati", "ford", limit=100)))
        assert [e.action for e in events[:5]] == ["accept", "accept", "accept", "reject", "skip"]
        assert len(events) == 51 and events[-1].action == "undo" and events[-1].undoes == events[-2].id
        assert events[1].codes == (events[1].shown[0].code,)  # "a" accepted the top suggestion
        assert events[2].codes == (events[2].shown[1].code,)  # "2" accepted the second
        assert all(e.shown and e.shown[0].model == "ford-tfidf" for e in events[:50])
        assert len({e.record_id for e in events[:50]}) == 50  # fifty different records


def test_performance_dashboard_screenshot(app_url, browser, output_dir):
    page = open_app(browser, app_url, height=1200, timeout=60000)
    go_to(page, "Performance", "Performance")
    try:
        page.get_by_role("combobox", name="Gold labels").click()
        page.get_by_role("option", name="Labels in imported files").click()
        # the chart drawn before (experts' labels and imported ones, after the Annotate test above) stays
        # on the page until the rerun with the imported labels alone has drawn its own: read it after that
        page.wait_for_timeout(500)
        page.locator("[data-testid='stApp'][data-test-script-state='notRunning']").wait_for(timeout=120000)
        page.get_by_text("Hierarchical F1").first.wait_for()  # the gold records are scored at once
        chart = page.locator("[data-testid='stVegaLiteChart']").first
        chart.wait_for()
        page.locator("[data-testid='stVegaLiteChart'] svg, [data-testid='stVegaLiteChart'] canvas").first.wait_for()
        assert chart.bounding_box()["height"] > 150
        # a click on a bubble selects its category: the bubble with the most gold records that is not
        # selected already; the page then names its gold count, and the queue it opens holds at least those
        category = page.get_by_role("combobox", name="Category")
        bubbles = page.locator("[data-testid='stVegaLiteChart'] .mark-symbol path[aria-label*='code: ']")
        fields = [dict(part.split(": ", 1) for part in label.split("; ") if ": " in part)
                  for label in bubbles.evaluate_all("els => els.map(e => e.getAttribute('aria-label'))")]
        chosen = max((i for i, f in enumerate(fields) if f["code"] not in category.input_value()),
                     key=lambda i: int(fields[i]["gold records"]))
        code, name, gold = fields[chosen]["code"], fields[chosen]["name"], int(fields[chosen]["gold records"])
        assert gold > 0
        bubbles.nth(chosen).click(force=True)
        expect(category).to_have_value(re.compile(re.escape(code) + ".*" + re.escape(name)), timeout=30000)
        try:  # the caption comes with the rerun the click started: slow on a busy machine
            page.get_by_text(f"{gold} gold records · predicted").wait_for(timeout=120000)
        except PlaywrightTimeout:
            page.screenshot(path=str(output_dir / "performance-caption-missing.png"))
            shown = page.locator("[data-testid='stCaptionContainer']").all_inner_texts()
            raise AssertionError(f"no '{gold} gold records' caption after choosing {code} {name}: {shown}") from None
        opened = page.get_by_role("button", name=re.compile(r"Open these [0-9,]+ records in Annotate"))
        assert int(re.search(r"these ([0-9,]+) records", opened.inner_text()).group(1).replace(",", "")) >= gold
        page.screenshot(path=str(output_dir / "performance-bubble-clicked.png"))
        # the reliability chart is drawn, with a real height, in its tab
        page.get_by_role("tab", name="Calibration").click()
        reliability = page.get_by_role("tabpanel", name="Calibration").locator("[data-testid='stVegaLiteChart']").first
        reliability.locator("svg, canvas").first.wait_for()
        box = reliability.bounding_box()
        assert box and box["height"] > 200 and box["width"] > 300, box
        reliability.screenshot(path=str(output_dir / "performance-calibration.png"))
        page.get_by_role("tab", name="Models").click()
        page.get_by_role("button", name="Chart PNG").wait_for()
        page.get_by_role("heading", name="Performance").scroll_into_view_if_needed()
        page.wait_for_timeout(500)
        page.screenshot(path=str(output_dir / "performance-dashboard.png"))
        chart.scroll_into_view_if_needed()
        chart.screenshot(path=str(output_dir / "performance-bubbles.png"))
    finally:
        page.close()


def test_bulk_upload_progress_download(app_server, browser, output_dir, tmp_path):
    import pandas as pd

    from tests.conftest import DATA

    app_url, _ = app_server
    titles = pd.read_csv(DATA / "corpora" / "sci_mag_paper_titles_dev.csv", dtype=str)["title"].iloc[:300]
    src = tmp_path / "export.csv"
    pd.DataFrame({"id": [f"x{i}" for i in range(300)], "title": titles,
                  "note": ["=1+1"] + [""] * 299}).to_csv(src, index=False)
    page = open_app(browser, app_url, timeout=90000, accept_downloads=True, role="Librarian")
    page.get_by_role("link", name="Bulk classify", exact=True).click()
    page.get_by_role("heading", name="Bulk classify").wait_for()
    try:
        page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(str(src))
        page.get_by_text("export.csv").first.wait_for()
        page.locator(".st-key-bulk-start button").click()
        page.get_by_text("Done · 300 of 300 rows").wait_for()
        # the form empties after Start: no file left in the uploader (the browser's copy included),
        # no Start one click from a duplicate job, also after the page runs again
        expect(page.locator(".st-key-bulk-start")).to_have_count(0)
        page.get_by_role("link", name="Start", exact=True).first.click()
        page.get_by_role("link", name="Bulk classify", exact=True).click()
        page.get_by_role("heading", name="Results of job").wait_for()
        page.get_by_text("New job").first.click()
        page.wait_for_timeout(1000)
        expect(page.locator("[data-testid='stFileUploaderFile']")).to_have_count(0)
        expect(page.locator(".st-key-bulk-start")).to_have_count(0)
        page.get_by_role("heading", name="Results of job").wait_for()
        with page.expect_download() as download:
            page.locator(".st-key-bulk-csv button").click()
        path = download.value.path()
        got = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        assert len(got) == 300 and got.loc[0, "note"] == "'=1+1" and (got["code_1"] != "").all()
        assert got["id"].tolist() == [f"x{i}" for i in range(300)]
    finally:
        page.screenshot(path=str(output_dir / "bulk-classify.png"), full_page=True)
        page.close()


CAP = "CAP policy topics (major topics and subtopics)"


def test_compact_card_fits_a_long_hungarian_speech_at_1440x900(app_server, browser, output_dir):
    """A 4,600-character Hungarian speech: title, first suggestion and Accept are all in view at
    1440×900 without scrolling (the text is cut, the whole of it one click away)."""
    import pandas as pd

    from core.store import Store
    from core.work.records_import import import_records
    from tests.conftest import shared_file

    app_url, home = app_server
    speeches = pd.read_csv(shared_file("corpora", "cap_hu_pre_agenda_speeches_sample.csv"), dtype=str)
    speech = speeches.iloc[4]
    assert len(speech["text"]) > 4500
    page = open_app(browser, app_url, user="Tóth Zsófia")  # opening the app creates the workspace
    with Store(home / "workbench.db") as db:
        import_records(db, pd.DataFrame({"id": ["hu-speech-4"], "title": [speech["agenda_item_title"]],
                                         "abstract": [speech["text"]], "language": ["hu"]}).to_csv(index=False)
                       .encode("utf-8"), "speech.csv", mapping={"id": "id", "title": "title", "abstract": "abstract",
                                                                "language": "language"}, collection="speeches")
    page.set_viewport_size({"width": 1440, "height": 900})
    page.get_by_role("combobox", name="Active taxonomy").click()
    page.get_by_role("option", name=CAP).click()
    idle = page.locator("[data-testid='stApp'][data-test-script-state='notRunning']")
    search = page.get_by_label("Only records containing (title, abstract or id)")
    for _ in range(3):  # typed while the taxonomy's rerun still draws, the filter is lost (seen under load)
        page.wait_for_timeout(500)
        idle.wait_for()
        search.fill("hu-speech-4")
        search.press("Enter")
        page.wait_for_timeout(500)  # the rerun with the filter starts
        idle.wait_for()
        if search.input_value() == "hu-speech-4":
            break
    assert search.input_value() == "hu-speech-4"
    page.locator(".st-key-annotate-open button").click()
    try:
        page.get_by_text(re.compile(r"record 1 of 1$")).wait_for()  # the one speech, not "1 of 133"
        page.locator(".st-key-annotate-pick-1 button").first.wait_for()
        page.get_by_text("Whole text (").wait_for()  # the rest of the speech is one click away
        idle.wait_for()
        page.wait_for_timeout(1000)  # the queue panel has finished folding away
        page.evaluate("window.scrollTo(0, 0)")
        for what, locator in (("title", page.get_by_role("heading", name=speech["agenda_item_title"])),
                              ("first suggestion", page.locator(".st-key-annotate-pick-1 button").first),
                              ("Accept", page.locator(".st-key-annotate-accept button"))):
            box = locator.bounding_box()
            assert box is not None, what
            assert box["y"] >= 0 and box["y"] + box["height"] <= 900, (what, box)
        label = page.locator(".st-key-annotate-pick-1 button").first.inner_text()
        assert "›" in label or "%" in label  # the button names the suggestion's path, not just "1"
    finally:
        page.screenshot(path=str(output_dir / "annotate-compact-1440x900.png"))
        page.close()


def test_each_taxonomy_keeps_its_queue_across_a_switch(app_url, browser, output_dir):
    page = open_app(browser, app_url, user="Váltó Vilma")
    page.get_by_role("combobox", name="Model", exact=True).click()
    page.get_by_role("option", name="ford-tfidf").click()
    page.locator(".st-key-annotate-open button").click()
    try:
        page.get_by_text("Labelled 0 · skipped 0 ·").wait_for()
        record = page.locator("[data-testid='stCaptionContainer']", has_text="id ").first.inner_text()
        page.get_by_role("combobox", name="Active taxonomy").click()
        page.get_by_role("option", name=CAP).click()
        page.get_by_text("Choose what to work on above and open the queue.").wait_for()
        page.get_by_role("combobox", name="Active taxonomy").click()
        page.get_by_role("option", name=FORD).click()
        page.get_by_text("Labelled 0 · skipped 0 ·").wait_for()
        again = page.locator("[data-testid='stCaptionContainer']", has_text="id ").first.inner_text()
        assert again == record  # FORD's queue and its place in it are still there
    finally:
        page.screenshot(path=str(output_dir / "annotate-taxonomy-switch.png"))
        page.close()


def go_to(page, link: str, heading: str, tries: int = 2) -> None:
    """Follow the sidebar link and wait for the page's heading and the end of its run (the first
    visit to Performance scores the unscored records first: seconds, more on a busy machine); a
    click that lands while a page's timed part redraws (Bulk classify's job panel, every second)
    can be lost, so the link is followed again, at most ``tries`` times."""
    idle = page.locator("[data-testid='stApp'][data-test-script-state='notRunning']")
    for attempt in range(tries):
        page.get_by_role("link", name=link, exact=True).first.click()
        try:
            page.get_by_role("heading", name=heading).first.wait_for(timeout=60_000)
            idle.wait_for(timeout=120_000)
            return
        except PlaywrightTimeout:
            if attempt == tries - 1:
                raise


def unfold_queue(page, shows) -> None:
    """Open Annotate's folded queue panel (folded while a queue is open: its label names the queue)
    until ``shows`` (a locator inside the panel) is visible. The page draws the label anew on every
    run, so the hidden copy of a previous run can be in the DOM beside the visible one (seen under
    CI's load): only a visible label is clicked, and clicked again only while ``shows`` stays hidden,
    so that a slow page cannot fold the panel shut again after it opened."""
    idle = page.locator("[data-testid='stApp'][data-test-script-state='notRunning']")
    label = page.locator("[data-testid='stExpander'] summary").filter(has_text="Queue")
    deadline = time.monotonic() + 90
    while not shows.is_visible():
        assert time.monotonic() < deadline, "the queue panel did not open in 90 s"
        visible = [label.nth(i) for i in range(label.count()) if label.nth(i).is_visible()]
        if visible:
            try:
                visible[0].click(timeout=5_000)
                shows.wait_for(timeout=10_000)
            except PlaywrightTimeout:
                pass
        page.wait_for_timeout(500)
        idle.wait_for()


@pytest.mark.parametrize("size", [(1440, 900), (1280, 720)])
def test_every_page_screenshot(app_url, browser, output_dir, size):
    page = open_app(browser, app_url, user="Képernyő Kata")
    page.set_viewport_size({"width": size[0], "height": size[1]})
    try:
        for link, heading in (("Start", "Subject classification workbench"), ("Annotate", "Annotate"),
                              ("Training data", "Training data"), ("Bulk classify", "Bulk classify"),
                              ("Performance", "Performance"), ("Team", "Team"), ("Taxonomies", "Taxonomies"),
                              ("Models", "Models"), ("Import", "Import"), ("Accounts", "Accounts")):
            go_to(page, link, heading)
            assert not page.locator("[data-testid='stException']").count(), link  # never a traceback
            page.screenshot(path=str(output_dir / f"page-{link.lower().replace(' ', '-')}-{size[0]}x{size[1]}.png"))
    finally:
        page.close()


def test_the_interface_switches_to_hungarian(app_url, browser, output_dir):
    page = open_app(browser, app_url, user="Magyar Márta")
    try:
        page.get_by_text("magyar", exact=True).click()  # the sidebar's interface switch
        page.get_by_role("link", name="Kezdőlap").first.click()
        page.get_by_role("heading", name="Tárgyszó-besoroló munkapad").wait_for()
        page.get_by_role("link", name="Címkézés", exact=True).first.click()
        page.get_by_role("heading", name="Címkézés").wait_for()
        page.get_by_role("button", name="Munkasor megnyitása").wait_for()
    finally:
        page.screenshot(path=str(output_dir / "interface-hungarian.png"))
        page.get_by_text("English", exact=True).click()  # the server is shared: leave it in English
        page.close()
