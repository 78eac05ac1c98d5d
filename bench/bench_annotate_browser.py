"""The Annotate page as felt in the browser: key press → the next record's suggestions drawn, with
300,000 records in the workspace, at 1440×900 in Chromium. Prints one JSON line.

    .venv/bin/python bench/bench_annotate_browser.py [--rows 300000] [--presses 50] [--hungarian [--cold]]
        [--evidence]

Builds a workspace of MTMT-like records (as ``bench_annotation.py``), scores every record with
``ford-tfidf`` (so the queue needs no scoring), starts ``streamlit run app.py`` on it, opens the
Annotate queue and presses 1 / A / 2 / X / S in turn, timing each press until the progress line
counts it and the next record's first suggestion is drawn. Baseline in the same run: the time to
draw the whole Annotate page (switching to it from the Start page), which every key press cost
before the card became a fragment; ``ratio`` = key press p50 over that.

``--hungarian``: the 220 Hungarian pre-agenda speeches (long texts, ``../shared/data``) are imported
too, with their CAP codes, and the presses run on the CAP queue "By language: hu" (imported labels
to confirm), so each card is a long Hungarian speech with its routing note.

``--evidence``: every other record arrives with a FORD field in its file (150,000 labelled; all
English, so one encoder serves them all) and the background fill's MiniLM vectors are kept, so
each card of the unlabelled queue also shows the ten labelled records nearest to it
(``core.work.evidence``; ``bench_evidence.py`` measures the search alone at 300,000 labelled).

``--cold``: day one, right after the import: the speeches' suggestions come from the cross-lingual
default, whose encoder has read none of them yet, and the app's background fill runs (encoding the
open queue's next records first): the load an expert meets on the first morning. Also timed: key
press → the next record's text on screen (``record_*``), which never waits for a model.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_annotation import build_records  # noqa: E402

from core.domain.labels import QueueSpec  # noqa: E402
from core.models.runtimes import load_classifier  # noqa: E402
from core.store import Store  # noqa: E402

Store.process_actor = ("bench", Store.SYSTEM)  # a measurement run acts for its own workspaces
from core.work.annotation import score_records  # noqa: E402
from core.work.records_import import import_records  # noqa: E402
from core.work.workspace import ensure_builtin_taxonomies  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def workspace(home: Path, rows: int, hungarian: bool = False, evidence: bool = False) -> dict:
    home.mkdir(parents=True, exist_ok=True)
    build_records(home / "records.csv", rows)
    store = Store(home / "workbench.db")
    ensure_builtin_taxonomies(store)
    ford = store.load_taxonomy("ford")
    if evidence:  # every other record with its file's FORD field (150,000 of 300,000), in English
        import random

        import pandas as pd

        frame = pd.read_csv(home / "records.csv", dtype=str, keep_default_na=False)
        fields, rnd = [n.code for n in ford.at_level(2)], random.Random(0)
        frame = frame.assign(language="en", label=[rnd.choice(fields) if i % 2 == 0 else ""
                                                   for i in range(len(frame))])
        frame.to_csv(home / "records.csv", index=False)
    start = time.perf_counter()
    import_records(store, home / "records.csv", "records.csv", label_taxonomy=ford if evidence else None)
    imported = time.perf_counter() - start
    encoded = None
    if evidence:  # the background fill's work, done before the presses
        from core.work.embeddings import fill_cache

        start = time.perf_counter()
        fill_cache(store, load_classifier(ROOT / "models" / "ford-minilm"), batch=8192)
        encoded = round(time.perf_counter() - start, 1)
    if hungarian:
        import pandas as pd

        speeches = pd.read_csv(ROOT.parent / "shared" / "data" / "corpora" / "cap_hu_pre_agenda_speeches_sample.csv",
                               dtype=str, keep_default_na=False)
        speeches["title"] = speeches["agenda_item_title"].str.strip('"')
        speeches["language"] = "hu"
        cap = store.load_taxonomy("cap")
        import_records(store, speeches.to_csv(index=False).encode(), "speeches.csv", label_taxonomy=cap,
                       mapping={"id": "text_id", "title": "title", "abstract": "text", "label": "cap_major",
                                "language": "language"})
        cap_tfidf = load_classifier(ROOT / "models" / "cap-tfidf")
        score_records(store, cap_tfidf, cap, store.unscored_ids(QueueSpec(
            "cap", status="open", language="hu", model_name=cap_tfidf.manifest.name,
            model_version=cap_tfidf.manifest.version)), top_k=10)
    tfidf = load_classifier(ROOT / "models" / "ford-tfidf")
    spec = QueueSpec("ford", model_name=tfidf.manifest.name, model_version=tfidf.manifest.version)
    start = time.perf_counter()
    score_records(store, tfidf, ford, store.unscored_ids(spec), top_k=10, chunk=5000)
    scored = time.perf_counter() - start
    records = store.db.execute("SELECT count(*) FROM records").fetchone()[0]
    store.close()
    return {"records": records, "import_s": round(imported, 1), "score_all_s": round(scored, 1),
            **({"encode_s": encoded} if evidence else {})}


def serve(home: Path, embed: bool = False, **settings: str) -> tuple[subprocess.Popen, str]:
    """``streamlit run app.py`` on ``home`` (``settings``: more WORKBENCH_... variables); its url."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = open(home / "server.log", "wb")  # noqa: SIM115 - the server writes to it until it stops
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
                             "--server.address", "127.0.0.1", "--server.headless", "true"], cwd=ROOT,
                            env=dict(os.environ, WORKBENCH_HOME=str(home), HF_HUB_OFFLINE="1",
                                     WORKBENCH_EMBED="1" if embed else "0", **settings),
                            stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1):
                return proc, url
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit("streamlit did not start")


def signed_in(playwright, url: str, user: str, timeout_ms: int = 120_000):
    """Chromium at 1440×900 on the app's Start page, ``user``'s name typed: (browser, page, the
    locator of the app at rest)."""
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    page.set_default_timeout(timeout_ms)
    page.goto(url, wait_until="domcontentloaded")
    page.get_by_role("heading", name="Subject classification workbench").wait_for()
    name = page.get_by_role("textbox", name="Your name").first
    name.fill(user)
    name.press("Enter")
    page.get_by_text(f"{user}, as").wait_for()
    return browser, page, page.locator("[data-testid='stApp'][data-test-script-state='notRunning']")


def presses(url: str, n: int, hungarian: bool = False, evidence: bool = False) -> dict:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser, page, idle = signed_in(p, url, "Bench Bea")
        full = []
        for _ in range(5):  # the whole Annotate page drawn: the baseline
            page.get_by_role("link", name="Start", exact=True).first.click()
            page.get_by_text("Bench Bea, as").wait_for()
            idle.wait_for()
            start = time.perf_counter()
            page.get_by_role("link", name="Annotate", exact=True).first.click()
            page.get_by_role("heading", name="Annotate").wait_for()
            idle.wait_for()
            full.append(time.perf_counter() - start)
        if hungarian:  # CAP, the Hungarian speeches with their imported codes to confirm
            page.get_by_role("combobox", name="Active taxonomy").click()
            page.get_by_role("option", name="CAP policy topics (major topics and subtopics)").click()
            idle.wait_for()
            page.get_by_role("combobox", name="Model", exact=True).click()
            page.get_by_role("option", name="cap-tfidf").click()  # the model that scored the speeches
            idle.wait_for()
            page.get_by_role("combobox", name="Work on").click()
            page.get_by_role("option", name="By language").click()
            idle.wait_for()
            page.get_by_role("combobox", name="Language", exact=True).click()
            page.get_by_role("option", name="hu", exact=True).click()
            idle.wait_for()
        else:
            page.get_by_role("combobox", name="Model", exact=True).click()
            page.get_by_role("option", name="ford-tfidf").click()
            idle.wait_for()
        page.locator(".st-key-annotate-open button").click()
        page.get_by_text("Labelled 0 · skipped 0 ·").wait_for()
        idle.wait_for()
        page.evaluate("document.activeElement && document.activeElement.blur()")
        keys = ["1", "a", "2", "x", "s"] * (n // 5 + 1)
        seconds, shown, settled = [], [], []
        labelled = skipped = 0
        for key in keys[:n]:
            start = time.perf_counter()
            page.keyboard.press(key)
            labelled, skipped = (labelled, skipped + 1) if key == "s" else (labelled + 1, skipped)
            page.get_by_text(f"Labelled {labelled} · skipped {skipped} ·").wait_for()
            page.locator("[data-testid='stMarkdownContainer'] h3").first.wait_for()  # the record's title
            shown.append(time.perf_counter() - start)
            page.locator(".st-key-annotate-pick-1 button").first.wait_for()
            if evidence:
                page.get_by_text("Nearest labelled records:").first.wait_for()
            seconds.append(time.perf_counter() - start)
            idle.wait_for()
            settled.append(time.perf_counter() - start)  # the run done: the new card's suggestions drawn
        browser.close()
    ordered, first = sorted(seconds), sorted(shown)
    return {"presses": n, "record_p50_s": round(statistics.median(shown), 3),
            "record_p95_s": round(first[max(0, int(0.95 * n) - 1)], 3),
            "key_p50_s": round(statistics.median(seconds), 3),
            "settled_p50_s": round(statistics.median(settled), 3),
            "settled_p95_s": round(sorted(settled)[max(0, int(0.95 * n) - 1)], 3),
            "key_p95_s": round(ordered[max(0, int(0.95 * n) - 1)], 3), "key_max_s": round(ordered[-1], 3),
            "full_page_p50_s": round(statistics.median(full), 3),
            "ratio_key_over_full_page": round(statistics.median(seconds) / statistics.median(full), 2),
            "goal_p95_s": 0.3}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--presses", type=int, default=50)
    parser.add_argument("--hungarian", action="store_true", help="cards of long Hungarian speeches (CAP)")
    parser.add_argument("--cold", action="store_true", help="day one: nothing encoded yet, the background fill on")
    parser.add_argument("--evidence", action="store_true", help="every record labelled and encoded: the nearest "
                                                                 "labelled records on each card")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        figures = {"bench": "annotate_browser", "hungarian": args.hungarian, "cold": args.cold,
                   "evidence": args.evidence, **workspace(home, args.rows, args.hungarian, args.evidence)}
        proc, url = serve(home, embed=args.cold)
        try:
            figures.update(presses(url, args.presses, args.hungarian, args.evidence))
        finally:
            proc.terminate()
            proc.wait(timeout=20)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
