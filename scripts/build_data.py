"""Build the data files the product ships (data/) from the public sources in ../shared/data.

    python scripts/build_data.py [--shared ../shared/data]

Writes data/taxonomies/{ford,ford_deep,cap}.csv in the workbench taxonomy CSV format and copies
the permissively licensed corpora the demo workspace and default models are built from into
data/corpora/. The outputs are committed, so a machine without ../shared still has them.
"""

from __future__ import annotations

import argparse
import csv
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.domain.taxonomy import NodeSpec, Taxonomy  # noqa: E402
from core.files.taxonomy_io import write_taxonomy_csv  # noqa: E402

SHIPPABLE_CORPORA = (
    "cap_us_congress_bill_titles.csv",
    "cap_nyt_headlines_sample.csv",
    "sci_mag_paper_titles_dev.csv",
    "sci_arxiv_abstracts_sample.csv",
    "sci_wos_abstracts_sample.csv",
)


def rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def ford_specs(tax_dir: Path) -> list[NodeSpec]:
    specs = []
    for r in rows(tax_dir / "ford_levels_1_2.csv"):
        specs.append(
            NodeSpec(
                r["code"],
                {"en": r["name_en"], "hu": r["name_hu_unofficial"]},
                (r["parent_code"],) if r["parent_code"] else (),
                r["description_en"],
            )
        )
    return specs


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def ford_deep_specs(tax_dir: Path) -> list[NodeSpec]:
    """FORD levels 1-2 plus SciNoBo levels 3 (subfields) and 4 (topic clusters); a DAG."""
    specs = ford_specs(tax_dir)
    l3_parents: dict[str, list[str]] = {}
    l4_parents: dict[str, list[str]] = {}
    l4_names: dict[str, str] = {}
    l3_names: dict[str, str] = {}
    for r in rows(tax_dir / "ford_scinobo_l1_l4_paths.csv"):
        l3_code = "L3_" + r["l3"]
        l3_names[l3_code] = _cap(r["l3"])
        l3_parents.setdefault(l3_code, [])
        if r["l2_code"] not in l3_parents[l3_code]:
            l3_parents[l3_code].append(r["l2_code"])
        if not r["l4_id"]:  # a level-3 subfield without topic clusters
            continue
        l4_parents.setdefault(r["l4_id"], [])
        if l3_code not in l4_parents[r["l4_id"]]:
            l4_parents[r["l4_id"]].append(l3_code)
        if r["l4_name"]:
            l4_names[r["l4_id"]] = r["l4_name"].replace("/", " / ")
    for code, parents in l3_parents.items():
        specs.append(NodeSpec(code, {"en": l3_names[code]}, tuple(parents), "SciNoBo level-3 subfield"))
    for code, parents in l4_parents.items():
        number = code.rsplit("_", 1)[-1]
        name = l4_names.get(code) or f"{l3_names[parents[0]]}: topic cluster {number} (unnamed)"
        specs.append(NodeSpec(code, {"en": name}, tuple(parents), "SciNoBo level-4 topic cluster"))
    return specs


def cap_specs(tax_dir: Path) -> list[NodeSpec]:
    specs = []
    for r in rows(tax_dir / "cap_major_topics.csv"):
        description = ""
        if r["in_cap_master"] != "1":
            description = f"Extension code, not in the CAP master codebook ({r['source_of_extra_code']})."
        names = {"en": r["name_en"]}
        if r["name_hu"]:
            names["hu"] = r["name_hu"]
        specs.append(NodeSpec(r["major_code"], names, (), description))
    for r in rows(tax_dir / "cap_subtopics.csv"):
        specs.append(NodeSpec(r["subtopic_code"], {"en": r["subtopic_name_en"]}, (r["major_code"],),
                              r["description_en"]))
    return specs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    args = parser.parse_args()
    tax_dir = args.shared / "taxonomies"
    out = ROOT / "data" / "taxonomies"
    out.mkdir(parents=True, exist_ok=True)
    for file_name, name, specs in (
        ("ford.csv", "FORD fields of science (levels 1-2)", ford_specs(tax_dir)),
        ("ford_deep.csv", "FORD + SciNoBo (levels 1-4)", ford_deep_specs(tax_dir)),
        ("cap.csv", "CAP policy topics", cap_specs(tax_dir)),
    ):
        taxonomy = Taxonomy(Path(file_name).stem, name, specs)
        write_taxonomy_csv(taxonomy, out / file_name)
        print(f"{file_name}: {len(taxonomy)} nodes, depth {taxonomy.depth}")
    corpora = ROOT / "data" / "corpora"
    corpora.mkdir(parents=True, exist_ok=True)
    for file_name in SHIPPABLE_CORPORA:
        shutil.copyfile(args.shared / "corpora" / file_name, corpora / file_name)
    for file_name in ("arxiv_to_ford.csv", "mag_s2_openalex_fields_to_ford.csv", "wos46985_area_to_ford.csv"):
        (ROOT / "data" / "mappings").mkdir(exist_ok=True)
        shutil.copyfile(args.shared / "mappings" / file_name, ROOT / "data" / "mappings" / file_name)
    print(f"copied {len(SHIPPABLE_CORPORA)} corpora and 3 mappings")


if __name__ == "__main__":
    main()
