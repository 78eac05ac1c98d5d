"""Day one in the browser: Hungarian speeches arrive without labels, and an expert goes through the
first cards of the Hungarian queue in Chromium. Prints one JSON line.

    .venv/bin/python bench/bench_day_one_browser.py [--cards 27] [--rows 220]

A workspace holds the shipped defaults and the Hungarian pre-agenda speeches (``../shared/data``,
their CAP major topics left out of the import, the language given as ``hu``). The app is started
with ``streamlit run app.py``; the expert opens the CAP queue "By language" and skips card after
card (S), reading each card's title and first suggestion. Afterwards each first suggestion is
compared with the speech's CAP major in the file: how often it was right, and which topic came
first how often (one topic first on most cards, right on few, is what a language read as a topic
looks like). ``model``: which model the cards named.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_annotate_browser import ARGS, CHROMIUM, serve  # noqa: E402

from core.store import Store  # noqa: E402

Store.process_actor = ("bench", Store.SYSTEM)  # a measurement run acts for its own workspaces
from core.work.records_import import import_records  # noqa: E402
from core.work.workspace import ensure_builtin_taxonomies  # noqa: E402

SPEECHES = ROOT.parent / "shared" / "data" / "corpora" / "cap_hu_pre_agenda_speeches_sample.csv"
CAP = "CAP policy topics (major topics and subtopics)"


def workspace(home: Path, rows: int) -> dict[str, set[str]]:
    """The speeches imported without their codes; returns each title's codes in the file."""
    import pandas as pd

    home.mkdir(parents=True, exist_ok=True)
    speeches = pd.read_csv(SPEECHES, dtype=str, keep_default_na=False).head(rows)
    speeches["title"] = speeches["agenda_item_title"].str.strip('"').str.strip()
    with Store(home / "workbench.db") as store:
        ensure_builtin_taxonomies(store)
        import_records(store, speeches[["text_id", "title", "text"]].to_csv(index=False).encode(), "beszedek.csv",
                       mapping={"id": "text_id", "title": "title", "abstract": "text"}, default_language="hu")
    gold: dict[str, set[str]] = {}
    for title, code in zip(speeches["title"], speeches["cap_major"]):
        gold.setdefault(title, set()).add(str(code))
    return gold


def cards(url: str, n: int) -> list[dict]:
    from playwright.sync_api import sync_playwright

    seen = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        page.set_default_timeout(180_000)
        page.goto(url, wait_until="domcontentloaded")
        page.get_by_role("heading", name="Subject classification workbench").wait_for()
        name = page.get_by_role("textbox", name="Your name").first
        name.fill("Szakértő Sára")
        name.press("Enter")
        page.get_by_text("Szakértő Sára, as").wait_for()
        idle = page.locator("[data-testid='stApp'][data-test-script-state='notRunning']")
        page.get_by_role("combobox", name="Active taxonomy").click()
        page.get_by_role("option", name=CAP).click()
        idle.wait_for()
        page.get_by_role("link", name="Annotate", exact=True).first.click()
        page.get_by_role("heading", name="Annotate").wait_for()
        idle.wait_for()
        page.get_by_role("combobox", name="Work on").click()
        page.get_by_role("option", name="By language").click()
        idle.wait_for()
        page.locator(".st-key-annotate-open button").click()
        for k in range(n):
            page.get_by_text(f"Labelled 0 · skipped {k} ·").wait_for()
            page.locator(".st-key-annotate-pick-1 button").first.wait_for()
            idle.wait_for()
            title = page.locator("[data-testid='stMarkdownContainer'] h3").first.inner_text().strip()
            first = page.locator(".st-key-annotate-pick-1 button").first.inner_text()
            heading = page.locator("[data-testid='stMarkdownContainer']", has_text="Suggestions ·").first.inner_text()
            seen.append({"title": title, "first": first, "heading": heading})
            page.evaluate("document.activeElement && document.activeElement.blur()")
            page.keyboard.press("s")
        browser.close()
    return seen


def first_code(button: str) -> str:
    """The code at the start of a suggestion button's text ("19 · International affairs … 23 %")."""
    match = re.search(r"\b(\d{1,4})\b", button)
    return match.group(1) if match else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=27)
    parser.add_argument("--rows", type=int, default=220)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-day-one-") as tmp:
        home = Path(tmp)
        gold = workspace(home, args.rows)
        proc, url = serve(home)
        start = time.perf_counter()
        try:
            seen = cards(url, args.cards)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    took = time.perf_counter() - start
    firsts = [first_code(s["first"]) for s in seen]
    right = [code in gold.get(s["title"], set()) for code, s in zip(firsts, seen)]
    models = Counter(m.group(1) for s in seen if (m := re.search(r"\b([a-z]+-[a-z0-9-]+)\b", s["heading"])))
    top = Counter(firsts).most_common(1)[0] if firsts else ("", 0)
    print(json.dumps({"bench": "day_one_browser", "cards": len(seen), "right_first": int(sum(right)),
                      "share_right": round(sum(right) / max(len(seen), 1), 3),
                      "most_common_first": {"code": top[0], "cards": top[1],
                                            "right": int(sum(r for c, r in zip(firsts, right) if c == top[0]))},
                      "international_affairs_first": firsts.count("19"),
                      "first_codes": dict(Counter(firsts).most_common()), "model": dict(models),
                      "titles_matched": int(sum(s["title"] in gold for s in seen)), "seconds": round(took, 1)}))


if __name__ == "__main__":
    main()
