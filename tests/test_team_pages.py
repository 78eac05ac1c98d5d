"""A double-coded round in the app: a lead assigns the open queue, two experts label blind, the
lead resolves their disagreement into a gold label, the Team page and the agreement tab show it;
an expert cannot assign, adjudicate or see the Team page."""

from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT


def as_person(user: str, role: str) -> AppTest:
    import streamlit as st

    from ui.common import Session

    st.cache_resource.clear()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.session_state["workbench.session"] = Session(user=user, role=role)
    return at.run()


def annotate(at: AppTest, kind: str) -> AppTest:
    at.switch_page("pages/annotate.py").run()
    at.selectbox(key="annotate.model").select("ford-dummy").run()
    at.selectbox(key="annotate.queue").select(kind).run()
    at.button(key="annotate.open").click().run()
    assert not at.exception, at.exception
    return at


def shown_id(at) -> str:
    return next(c.value for c in at.caption if c.value.startswith("id "))


def _db(home):
    from core.store import Store

    return Store(home / "workbench.db")


def test_a_double_coded_round_in_the_app(workspace_env):
    lead = annotate(as_person("lea", "lead"), "uncertain")
    lead.text_input(key="annotate.round_names").input("eva, jan")
    lead.number_input(key="annotate.round_n").set_value(4)
    lead.slider(key="annotate.round_overlap").set_value(100).run()
    lead.button(key="annotate.round_start").click().run()
    assert not lead.exception, lead.exception
    assert any("4 records for 2 annotators, 4 of them coded twice" in s.value for s in lead.success)

    eva = annotate(as_person("eva", "expert"), "assigned")
    first = shown_id(eva)
    assert any("Blind" in c.value for c in eva.caption)
    eva.button(key="annotate.accept").click().run()
    assert not eva.exception, eva.exception

    jan = annotate(as_person("jan", "expert"), "assigned")
    assert shown_id(jan) == first
    assert any("Blind" in c.value for c in jan.caption)  # eva labelled it, jan not yet: still blind
    assert not any(c.value.startswith("eva") for c in jan.caption)
    assert not [b for b in jan.button if b.key and b.key.startswith("annotate.gold")]  # an expert does not adjudicate
    jan.text_input(key="annotate.query").input("history").run()
    jan.selectbox(key="annotate.hit").select("6.1").run()
    jan.button(key="annotate.hit_use").click().run()
    assert not jan.exception, jan.exception
    with _db(workspace_env) as db:
        rid = db.db.execute("SELECT record_id FROM current_labels WHERE annotator = 'jan'").fetchone()[0]
        labels = db.labels_of(rid, "ford")
        assert set(labels) == {"eva", "jan"} and labels["jan"].codes == ("6.1",)

    lead = annotate(as_person("lea", "lead"), "disputes")
    assert shown_id(lead) == first
    gold_buttons = [b for b in lead.button if b.key and b.key.startswith("annotate.gold.")]
    assert len(gold_buttons) == 2  # eva's label and jan's
    jans = next(b for b in gold_buttons if "jan" in b.label)
    jans.click().run()
    assert not lead.exception, lead.exception
    with _db(workspace_env) as db:
        assert db.gold_labels("ford") == {rid: ("6.1",)}

    lead.switch_page("pages/team.py").run()
    assert not lead.exception, lead.exception
    progress, quality = (d.value for d in lead.dataframe)
    assert set(progress["annotator"]) == {"eva", "jan"} and progress["labelled"].sum() == 2
    assert set(quality["annotator"]) >= {"eva", "jan"}
    lead.switch_page("pages/performance.py").run()
    assert not lead.exception, lead.exception

    eva.switch_page("pages/team.py").run()
    assert any("For these roles" in c.value for c in eva.caption)
    eva = annotate(eva, "uncertain")
    assert not [e for e in eva.expander if "labelling round" in e.label]  # no round form for an expert
