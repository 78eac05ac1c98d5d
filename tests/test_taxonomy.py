"""Taxonomies: the shipped ones, queries, search, and import with validation naming the line."""

import json
import time

import pytest

from core.domain.search import search
from core.domain.taxonomy import Taxonomy
from core.domain.text import normalize_code
from core.errors import TaxonomyError
from core.files.taxonomy_io import read_taxonomy, read_taxonomy_file, taxonomy_to_csv
from tests.conftest import DATA, shared_file


@pytest.fixture(scope="module")
def ford():
    return read_taxonomy_file(DATA / "taxonomies" / "ford.csv")


@pytest.fixture(scope="module")
def deep():
    return read_taxonomy_file(DATA / "taxonomies" / "ford_deep.csv")


@pytest.fixture(scope="module")
def cap():
    return read_taxonomy_file(DATA / "taxonomies" / "cap.csv")


def test_shipped_taxonomies_have_the_expected_shape(ford, deep, cap):
    assert len(ford) == 48 and len(ford.roots()) == 6 and len(ford.at_level(2)) == 42
    assert ford.depth == 2 and set(ford.languages) == {"en", "hu"}
    assert 1100 <= len(deep) <= 1300 and deep.depth == 4
    assert len(cap.at_level(2)) == 213
    master = [n for n in cap.roots() if not n.description.startswith("Extension")]
    assert len(master) == 21
    assert "24" in cap and cap.node("24").description.startswith("Extension code")


def test_shipped_taxonomies_match_the_shared_sources(ford):
    import csv

    path = shared_file("taxonomies", "ford_levels_1_2.csv")
    with open(path, encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["code"] for r in rows} == {n.code for n in ford}
    for r in rows:
        assert ford.node(r["code"]).name("hu") == r["name_hu_unofficial"]


def test_ford_codes_written_with_leading_zeros_are_the_same_node(ford):
    assert normalize_code("1.01") == "1.1" and normalize_code("2.10") == "2.10"
    assert ford.node("1.01") is ford.node("1.1")
    assert "5.06" in ford and ford.name_of("05.06") == "Political science"


def test_queries(ford, deep):
    assert [n.code for n in ford.children("1")][:3] == ["1.1", "1.2", "1.3"]
    assert ford.ancestors("1.2") == ["1"]
    assert [n.code for n in ford.path("1.2")] == ["1", "1.2"]
    assert ford.level("1.2") == 2 and ford.level("1") == 1
    assert ford.is_leaf("1.2") and not ford.is_leaf("1")
    assert len(ford.leaves()) == 42
    assert ford.cut("1.2", 1) == "1" and ford.cut("1.2", 2) == "1.2" and ford.cut("1", 2) == "1"
    assert ford.path_label("1.2") == "Natural sciences › Computer and information sciences"
    assert ford.path_label("1.2", "hu").startswith("Természettudományok › ")
    # A DAG: an L3 node with two L2 parents has both lines of ancestors and two paths.
    assert set(deep.ancestors("L3_energy")) == {"2.2", "2.11", "2"}
    assert len(deep.paths("L3_energy")) == 2
    assert deep.level("L3_energy") == 3
    leaf = next(n.code for n in deep.leaves() if deep.level(n.code) == 4)
    assert deep.cut(leaf, 2) in {n.code for n in deep.at_level(2)}
    assert set(deep.descendants("1.1")) >= {"L3_applied mathematics"}


@pytest.mark.parametrize(
    "query, expected",
    [
        ("1.02", "1.2"),
        ("Természettudományok", "1"),
        ("termeszettudomanyok", "1"),  # accents left out
        ("politikatudomány", "5.6"),  # Hungarian name
        ("matematcs", "1.1"),  # typo
        ("enviromental enginering", "2.7"),  # two typos
        ("computer and information", "1.2"),
    ],
)
def test_search(ford, query, expected):
    hits = search(ford, query)
    assert hits and hits[0].code == expected, [(h.code, h.score) for h in hits[:3]]


def test_search_is_fast_on_a_large_hierarchy(deep):
    search(deep, "warmup")
    start = time.perf_counter()
    for query in ("quantum", "machine lerning", "1.3", "környezet", "pedagogy"):
        search(deep, query)
    assert (time.perf_counter() - start) / 5 < 0.2  # generous bound; bench/ measures the p95


def test_csv_round_trip(deep):
    again = read_taxonomy(taxonomy_to_csv(deep).encode(), "deep.csv")
    assert len(again) == len(deep)
    assert again.node("L3_energy").parents == deep.node("L3_energy").parents


def _problems(data: bytes, name: str = "t.csv"):
    with pytest.raises(TaxonomyError) as info:
        read_taxonomy(data, name)
    return info.value


def test_duplicate_code_names_both_lines():
    err = _problems(b"code,parent,name\nA,,Alpha\nB,A,Beta\nA,,Again\n")
    assert [p.line for p in err.problems] == [4]
    assert "duplicate code 'A' (first on line 2)" in err.problems[0].message


def test_unknown_parent_names_the_line():
    err = _problems(b"code,parent,name\nA,,Alpha\nB,X,Beta\n")
    assert err.problems[0].line == 3 and "unknown parent 'X'" in err.problems[0].message


def test_cycle_is_reported():
    err = _problems(b"code,parent,name\nR,,Root\nA,C,Alpha\nB,A,Beta\nC,B,Gamma\n")
    assert "cycle" in err.problems[0].message
    assert all(c in err.problems[0].message for c in "ABC")


def test_empty_name_names_the_line():
    err = _problems(b"code,parent,name_en,name_hu\nA,,Alpha,\nB,A,,\n")
    assert err.problems[0].line == 3 and "empty name" in err.problems[0].message


def test_undecodable_file_names_the_line():
    err = _problems("code,parent,name\nA,,Alpha\nB,A,Béta\n".encode("cp1250"))
    assert "undecodable" in str(err) and err.problems[0].line == 3
    ok = read_taxonomy("code,parent,name\nA,,Alpha\nB,A,Béta\n".encode("cp1250"), "t.csv", encoding="cp1250")
    assert ok.name_of("B") == "Béta"


def test_empty_file_and_missing_columns():
    assert "empty" in str(_problems(b""))
    assert "no 'code' column" in str(_problems(b"id,name\n1,x\n"))
    assert "no name column" in str(_problems(b"code,parent\n1,\n"))


def test_two_parents_are_allowed_and_kept():
    tax = read_taxonomy(b"code,parent,name\nA,,Alpha\nB,,Beta\nC,A|B,Both\n", "dag.csv")
    assert [p.code for p in tax.parents("C")] == ["A", "B"]
    assert set(tax.ancestors("C")) == {"A", "B"}
    assert tax.children("A")[0].code == "C" and tax.children("B")[0].code == "C"


def test_semicolon_delimited_csv_with_levels_column():
    tax = read_taxonomy(b"code;parent;level;name_en\n1;;1;Natural sciences\n1.01;1;2;Mathematics\n", "x.csv")
    assert tax.name_of("1.1") == "Mathematics"


def test_json_node_list_and_nested_tree():
    flat = {"id": "t", "name": "T", "nodes": [
        {"code": "1", "names": {"en": "One", "hu": "Egy"}},
        {"code": "1.1", "parent": "1", "name": "One.one"},
    ]}
    tax = read_taxonomy(json.dumps(flat).encode(), "t.json")
    assert tax.id == "t" and tax.name_of("1", "hu") == "Egy" and tax.level("1.1") == 2
    nested = [{"code": "A", "name": "Alpha", "children": [{"code": "A1", "name": "Alpha one"}]}]
    tax = read_taxonomy(json.dumps(nested).encode(), "tree.json")
    assert tax.ancestors("A1") == ["A"]
    err = _problems(b'{"nodes": [{"code": "A", "name": "x"},', "bad.json")
    assert "not valid JSON" in str(err) and err.problems[0].line == 1


SKOS = """@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix ex: <http://example.org/fos/> .
ex:scheme a skos:ConceptScheme ; dct:title "Fields" .
ex:n1 a skos:Concept ; skos:prefLabel "Natural sciences"@en, "Természettudományok"@hu ; skos:notation "1" .
ex:n11 a skos:Concept ; skos:prefLabel "Mathematics"@en ; skos:broader ex:n1 ; skos:notation "1.01" ;
    skos:definition "Pure and applied mathematics"@en .
ex:n12 a skos:Concept ; skos:prefLabel "Computer science"@en ; skos:broader ex:n1 .
"""


def test_skos_turtle():
    tax = read_taxonomy(SKOS.encode(), "fos.ttl")
    assert tax.name == "Fields" and len(tax) == 3
    assert tax.name_of("1", "hu") == "Természettudományok"
    assert tax.node("1.1").description == "Pure and applied mathematics"
    assert tax.ancestors("n12") == ["1"]
    err = _problems(b"@prefix skos: <http://www.w3.org/2004/02/skos/core#> .\nex:a skos:prefLabel .\n", "bad.ttl")
    assert "not valid Turtle" in str(err)


def test_taxonomy_constructor_validates_codes_directly():
    from core.domain.taxonomy import NodeSpec

    with pytest.raises(TaxonomyError):
        Taxonomy("t", "T", [NodeSpec("A", {"en": "a"}, ("A",))])


# Hungarian queries as an expert types them (inflected: -i adjectives, compounds, everyday words
# for a field), with the node each must find among its first three hits. No synonym table: word
# stems (Snowball), shared prefixes of compounds, and the shipped taxonomies' own Hungarian-English
# name pairs ("oktatás" finds CAP "Oktatáspolitika" = "Education", hence FORD 5.3 "Education").
HUNGARIAN_QUERIES = [("ford","matematika","1.1"),("ford","számítástudomány","1.2"),("ford","fizika","1.3"),("ford","kémia","1.4"),
("ford","biológia","1.6"),("ford","földtudomány","1.5"),("ford","építőmérnök","2.1"),("ford","gépészmérnöki","2.3"),
("ford","anyagmérnökség","2.5"),("ford","környezetmérnöki","2.7"),("ford","nanotechnológia","2.10"),
("ford","klinikai orvostudomány","3.2"),("ford","egészségtudomány","3.3"),("ford","mezőgazdaság","4.1"),
("ford","mezőgazdasági","4.1"),("ford","állatorvos","4.3"),("ford","pszichológia","5.1"),("ford","közgazdaságtan","5.2"),
("ford","neveléstudomány","5.3"),("ford","szociológia","5.4"),("ford","jogtudomány","5.5"),("ford","politikatudomány","5.6"),
("ford","kommunikáció","5.8"),("ford","történelem","6.1"),("ford","régészet","6.1"),("ford","irodalom","6.2"),
("ford","filozófia","6.3"),("ford","művészet","6.4"),("ford","oktatás","5.3"),("ford","oktatási","5.3"),
("ford","egészségügy","3.3"),("ford","egészségügyi","3.3"),
("cap","oktatás","6"),("cap","oktatási","6"),("cap","egészségügy","3"),("cap","egészségügyi","3"),("cap","mezőgazdaság","4"),
("cap","mezőgazdasági","4"),("cap","foglalkoztatás","5"),("cap","környezetvédelem","7"),("cap","energia","8"),
("cap","bevándorlás","9"),("cap","közlekedés","10"),("cap","lakásügy","14"),("cap","honvédelem","16"),("cap","külpolitika","19"),
("cap","kultúra","23"),("cap","szociálpolitika","13"),("cap","technológia","17"),("cap","kormányzat","20"),
("cap","környezetvédelmi","7"),("cap","energiaügy","8"),
# everyday words no node's name holds (data/search/hu_en_terms.csv)
("cap","lakhatás","14"),("cap","lakhatási","14"),("cap","munkanélküliség","103"),("cap","bűnözés","12"),
("cap","nyugdíj","1303"),("cap","korrupció","36")]


@pytest.mark.parametrize("taxonomy_id, query, expected", HUNGARIAN_QUERIES)
def test_hungarian_search_finds_what_an_expert_types(taxonomy_id, query, expected):
    from core.files.shipped import builtin_taxonomy

    hits = search(builtin_taxonomy(taxonomy_id), query, limit=3, lang="hu")
    assert expected in [h.code for h in hits], [(h.code, h.name, round(h.score)) for h in hits]


def test_hungarian_search_no_longer_finds_false_friends():
    from core.files.shipped import builtin_taxonomy

    cap = builtin_taxonomy("cap")
    assert search(cap, "mezőgazdaság", limit=1, lang="hu")[0].code == "4"  # not "Makrogazdasági politika"
    # the topic first, then its own subtopics: not a node of another topic whose description mentions it
    first = [h.code for h in search(cap, "oktatás", limit=4, lang="hu")]
    assert first[0] == "6" and all(c.startswith("6") for c in first[1:]), first
    assert search(cap, "lakhatás", limit=1, lang="hu")[0].code == "14"
    assert len(HUNGARIAN_QUERIES) >= 30


def test_labels_show_names_not_internal_codes_and_tell_twins_apart():
    from core.files.shipped import builtin_taxonomy

    deep = builtin_taxonomy("ford-deep")
    assert deep.label("1.2") == "1.2 · Computer and information sciences"  # a published code stays
    assert deep.label("L3_applied mathematics") == "Applied mathematics"  # an internal one does not
    twins = [n.code for n in deep.children("L3_applied mathematics")
             if n.name() == "Numerical differential equations / Partial differential equations"]
    assert len(twins) == 2 and len({deep.label(c) for c in twins}) == 2  # siblings with one name: told apart
    assert all("L4_" not in deep.label(n.code) for n in deep if deep.level(n.code) == 4)
