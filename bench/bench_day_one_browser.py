"""Day one in the browser: Hungarian speeches arrive without labels, and an expert goes through the
first cards of the Hungarian queue in Chromium. Prints one JSON line.

    .venv/bin/python bench/bench_day_one_browser.py [--cards 27] [--rows 220] [--before]

A workspace holds the shipped defaults and the Hungarian pre-agenda speeches (``../shared/data``,
their CAP major topics left out of the import, the language given as ``hu``). The app is started
with ``streamlit run app.py``; the expert opens the CAP queue "By language" and skips card after
card (S), reading each card's record id and first suggestion. Afterwards each first suggestion is
compared with the speech's CAP major in the file: how often it was right, and which topic came
first how often (one topic first on most cards, right on few, is what a language read as a topic
looks like). ``model``: which model the cards named.

``--before``: the same cards again in a second workspace whose models folder holds the same
``cap-multilingual`` read the old way (its members' English topic mix kept, the zero-shot leaves
summed: ``member_prior`` and ``member_fold`` taken out of its manifest), as ``before``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_annotate_browser import serve, signed_in  # noqa: E402

from core.store import Store  # noqa: E402

Store.process_actor = ("bench", Store.SYSTEM)  # a measurement run acts for its own workspaces
from core.work.records_import import import_records  # noqa: E402
from core.work.workspace import ensure_builtin_taxonomies  # noqa: E402

SPEECHES = ROOT.parent / "shared" / "data" / "corpora" / "cap_hu_pre_agenda_speeches_sample.csv"
CAP = "CAP policy topics (major topics and subtopics)"


def workspace(home: Path, rows: int) -> dict[str, str]:
    """The speeches imported without their codes; returns each speech's code in the file, by id."""
    import pandas as pd

    home.mkdir(parents=True, exist_ok=True)
    speeches = pd.read_csv(SPEECHES, dtype=str, keep_default_na=False).head(rows)
    speeches["title"] = speeches["agenda_item_title"].str.strip('"').str.strip()
    with Store(home / "workbench.db") as store:
        ensure_builtin_taxonomies(store)
        import_records(store, speeches[["text_id", "title", "text"]].to_csv(index=False).encode(), "beszedek.csv",
                       mapping={"id": "text_id", "title": "title", "abstract": "text"}, default_language="hu")
    return dict(zip(speeches["text_id"].astype(str), speeches["cap_major"].astype(str)))


def models_read_the_old_way(folder: Path) -> Path:
    """A models folder of hard links to the shipped one, its cross-lingual default's manifest
    without the members' reading options."""
    import shutil

    shutil.copytree(ROOT / "models", folder, copy_function=os.link, ignore=shutil.ignore_patterns(".build*"))
    manifest_path = folder / "cap-multilingual" / "workbench.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    for key in ("member_prior", "member_fold"):
        manifest["training"].pop(key, None)
    manifest_path.unlink()  # a hard link: write a file of its own
    manifest_path.write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    return folder


def cards(url: str, n: int) -> list[dict]:
    from playwright.sync_api import sync_playwright

    seen = []
    with sync_playwright() as p:
        browser, page, idle = signed_in(p, url, "Szakértő Sára", 180_000)
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
            meta = re.search(r"\bid (\S+)", page.locator("[data-testid='stMain']").inner_text())
            first = page.locator(".st-key-annotate-pick-1 button").first.inner_text()
            heading = page.locator("[data-testid='stMarkdownContainer']", has_text="Suggestions ·").first.inner_text()
            seen.append({"id": meta.group(1) if meta else "", "first": first, "heading": heading})
            page.evaluate("document.activeElement && document.activeElement.blur()")
            page.keyboard.press("s")
        browser.close()
    return seen


def first_code(button: str, names: dict[str, str]) -> str:
    """The code of a suggestion button's topic ("1 · 12% · Government Operations": rank, score, name)."""
    name = button.split("·")[-1].strip().splitlines()[0].strip() if "·" in button else ""
    return names.get(name, "")


def run(home: Path, models: Path, n: int, rows: int) -> dict:
    """One workspace, one server, ``n`` cards; the figures."""
    from core.files.shipped import builtin_taxonomy

    gold = workspace(home, rows)
    proc, url = serve(home, WORKBENCH_DEMO="0", WORKBENCH_MODELS=str(models))
    start = time.perf_counter()
    try:
        seen = cards(url, n)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    took = time.perf_counter() - start
    names = {node.name("en"): node.code for node in builtin_taxonomy("cap").at_level(1)}
    firsts = [first_code(s["first"], names) for s in seen]
    right = [code == gold.get(s["id"]) for code, s in zip(firsts, seen)]
    models_named = Counter(m.group(1) for s in seen if (m := re.search(r"\b([a-z]+-[a-z0-9-]+)\b", s["heading"])))
    top = Counter(firsts).most_common(1)[0] if firsts else ("", 0)
    return {"cards": len(seen), "right_first": int(sum(right)), "share_right": round(sum(right) / max(len(seen), 1), 3),
            "most_common_first": {"code": top[0], "cards": top[1],
                                  "right": int(sum(r for c, r in zip(firsts, right) if c == top[0]))},
            "international_affairs_first": firsts.count("19"), "first_codes": dict(Counter(firsts).most_common()),
            "model": dict(models_named), "ids_matched": int(sum(s["id"] in gold for s in seen)),
            "names_matched": int(sum(bool(c) for c in firsts)), "seconds": round(took, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=27)
    parser.add_argument("--rows", type=int, default=220)
    parser.add_argument("--before", action="store_true", help="also the cross-lingual default read the old way")
    args = parser.parse_args()
    out = {"bench": "day_one_browser"}
    with tempfile.TemporaryDirectory(prefix="bench-day-one-") as tmp:
        out.update(run(Path(tmp) / "now", ROOT / "models", args.cards, args.rows))
        if args.before:
            out["before"] = run(Path(tmp) / "before", models_read_the_old_way(Path(tmp) / "old-models"), args.cards,
                                args.rows)
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
