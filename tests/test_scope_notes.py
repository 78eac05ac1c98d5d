"""Scope notes: the guideline per node, from the taxonomy's own descriptions (skos:scopeNote, a
CSV description column) or a lead's versioned edits kept apart from the nodes; records labelled
before a note changed come back for a look."""

import pytest
from streamlit.testing.v1 import AppTest

from core.domain.access import PermissionDenied
from core.files.taxonomy_io import read_taxonomy
from core.work.annotation import Annotator
from core.work.team import TeamError, labelled_before_note, save_scope_note, scope_notes
from tests.conftest import ROOT, corpus, import_frame

SKOS = b"""@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix ex: <http://example.org/> .
ex:s a skos:ConceptScheme .
ex:a a skos:Concept ; skos:prefLabel "Agriculture"@en ; skos:notation "A" ; skos:topConceptOf ex:s ;
     skos:scopeNote "Farming, forestry and fisheries; not food safety (see H)."@en .
ex:h a skos:Concept ; skos:prefLabel "Health"@en ; skos:notation "H" ; skos:topConceptOf ex:s .
"""


def test_notes_come_from_the_taxonomy_and_from_leads_and_survive_a_replaced_taxonomy(store):
    taxonomy = read_taxonomy(SKOS, "mini.ttl", id="mini", name="Mini")
    store.save_taxonomy(taxonomy)
    mini = store.load_taxonomy("mini")
    code_a = next(n.code for n in mini if n.name("en") == "Agriculture")
    code_h = next(n.code for n in mini if n.name("en") == "Health")
    notes = scope_notes(store, mini)
    assert notes[code_a].source == "taxonomy" and "not food safety" in notes[code_a].text
    assert code_h not in notes
    save_scope_note(store, mini, code_h, "Health care and public health; food safety belongs here.", by="lea",
                    role="lead")
    save_scope_note(store, mini, code_h, "Health care, public health and food safety.", by="lea", role="lead")
    assert scope_notes(store, mini)[code_h].text == "Health care, public health and food safety."
    assert [h["text"][:11] for h in store.scope_note_history("mini", code_h)] == ["Health care", "Health care"]
    assert len(store.scope_note_history("mini", code_h)) == 2
    with pytest.raises(PermissionDenied, match="may not edit scope notes"):
        save_scope_note(store, mini, code_h, "x", by="eva", role="expert")
    with pytest.raises(TeamError, match="at most"):
        save_scope_note(store, mini, code_h, "x" * 5001, by="lea", role="lead")
    with pytest.raises(TeamError, match="not a code"):
        save_scope_note(store, mini, "ZZZ", "x", by="lea", role="lead")
    store.save_taxonomy(read_taxonomy(SKOS, "mini.ttl", id="mini", name="Mini again"), replace=True)
    assert scope_notes(store, store.load_taxonomy("mini"))[code_h].text == "Health care, public health and food safety."


def test_records_labelled_before_a_note_changed_come_back(store):
    frame = corpus("sci_arxiv_abstracts_sample.csv", slice(0, 10))
    import_frame(store, frame, "a.csv", {"id": "id", "title": "title", "abstract": "abstract"})
    ford = store.load_taxonomy("ford")
    ids = [r["id"] for r in store.records(limit=10)]
    eva = Annotator(store, "eva", "expert", ford)
    eva.correct(ids[0], ["1.1"], [])
    eva.correct(ids[1], ["5.2"], [])
    assert labelled_before_note(store, ford, "1") == []  # no note saved yet
    save_scope_note(store, ford, "1", "Natural sciences: mathematics, physics, chemistry ...", by="lea", role="lead")
    assert labelled_before_note(store, ford, "1") == [ids[0]]  # 1.1 lies under 1; 5.2 does not
    import time

    time.sleep(0.01)  # a later click (labels and notes are stamped to the millisecond)
    eva.correct(ids[0], ["1.2"], [])  # looked at again under the new note
    assert labelled_before_note(store, ford, "1") == []


def test_a_lead_edits_a_scope_note_on_the_taxonomies_page(workspace_env):
    import streamlit as st

    from ui.common import Session

    st.cache_resource.clear()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.session_state["workbench.session"] = Session(user="lea", role="lead")
    at.run()
    at.switch_page("pages/taxonomies.py").run()
    at.button(key="taxonomies.node.1").click().run()
    assert not at.exception, at.exception
    at.text_area(key="taxonomies.note.ford.1").input("Natural sciences; not engineering.").run()
    at.button(key="taxonomies.note_save").click().run()
    assert not at.exception, at.exception
    assert any("not engineering" in i.value for i in at.info)
    from core.store import Store

    with Store(workspace_env / "workbench.db") as db:
        assert db.scope_notes("ford")["1"]["by"] == "lea"
    expert = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    expert.session_state["workbench.session"] = Session(user="eva", role="expert")
    expert.run()
    expert.switch_page("pages/taxonomies.py").run()
    expert.button(key="taxonomies.node.1").click().run()
    assert any("not engineering" in i.value for i in expert.info)
    assert not [a for a in expert.text_area if a.key and a.key.startswith("taxonomies.note")]
