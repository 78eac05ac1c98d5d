"""One AppTest smoke test per page, plus the Taxonomies and Import journeys through built-in widgets."""

import json

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import DATA, ROOT, train_tfidf

PAGES = sorted(p.name for p in (ROOT / "pages").glob("*.py") if p.name != "sign_in.py")  # sign-in: tests/test_accounts.py


def app(role: str | None = None) -> AppTest:
    """The app (single-user mode); ``role``: the role chosen in the sidebar (default: domain expert)."""
    import streamlit as st

    from ui.common import Session

    st.cache_resource.clear()
    st.cache_data.clear()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    if role:
        at.session_state["workbench.session"] = Session(role=role)
    return at


def on_page(page: str, upload: tuple[str, str, bytes] | None = None, role: str = "lead") -> AppTest:
    """The app on ``page`` as ``role``, with a file uploaded to the uploader ``upload[0]`` when given."""
    at = app(role).run()
    at.switch_page(f"pages/{page}").run()
    if upload:
        key, name, data = upload
        at.file_uploader(key=key).upload(name, data, "text/csv").run()
        assert not at.exception, at.exception
    return at


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_without_exception(page, workspace_env):
    at = app().run()
    assert not at.exception
    at.switch_page(f"pages/{page}").run()
    assert not at.exception, at.exception
    assert at.title, f"{page} shows no title"


def test_every_page_is_in_the_navigation():
    text = (ROOT / "app.py").read_text()
    for page in PAGES:
        assert f"pages/{page}" in text


def test_sidebar_sets_user_role_and_taxonomy(workspace_env):
    # AppTest re-captures only the page of an st.navigation app after the first run, so the
    # sidebar widgets are set together on the first run's tree; the browser test drives them too.
    at = app().run()
    at.text_input(key="sidebar.user").input("Kovács Anna")
    at.selectbox(key="sidebar.role").select("lead")
    at.selectbox(key="sidebar.taxonomy").select("cap")
    at.run()
    assert not at.exception
    assert any("Kovács Anna, as team lead" in m.value for m in at.success)  # the start page's next step
    at.switch_page("pages/annotate.py").run()
    assert "Team lead Kovács Anna" in at.caption[0].value
    at.switch_page("pages/taxonomies.py").run()
    assert "CAP" in at.caption[0].value


def test_taxonomy_search_and_browse(workspace_env):
    at = app().run()
    at.switch_page("pages/taxonomies.py").run()
    at.text_input(key="taxonomies.query").input("szamitastudomany").run()
    assert not at.exception
    results = at.dataframe[0].value
    assert results["code"].iloc[0] == "1.2"
    at.button(key="taxonomies.hit_open").click().run()
    assert any("1.2 · Computer and information sciences" in m.value for m in at.markdown)
    at.button(key="taxonomies.crumb.1").click().run()
    assert any(m.value.startswith("#### 1 · Natural sciences") for m in at.markdown)
    at.button(key="taxonomies.node.1.3").click().run()
    assert any("Physical sciences" in m.value for m in at.markdown)
    assert not at.exception


def test_taxonomy_import_shows_line_numbered_errors(workspace_env):
    bad = b"code,parent,name_en\nA,,Alpha\nB,A,Beta\nB,A,Beta again\nC,Z,Gamma\n"
    at = on_page("taxonomies.py", ("taxonomies.upload", "bad.csv", bad))
    at.button(key="taxonomies.import").click().run()
    assert not at.exception
    assert at.error and "problem" in at.error[0].value
    table = at.dataframe[-1].value
    assert set(table["line"]) == {4, 5}
    good = b"code,parent,name_en,name_hu\nA,,Alpha,Alfa\nB,A,Beta,B\xc3\xa9ta\n"
    at.file_uploader(key="taxonomies.upload").upload("mine.csv", good, "text/csv").run()
    at.text_input(key="taxonomies.new_id").input("mine").run()
    at.button(key="taxonomies.import").click().run()
    assert at.success and "2 nodes" in at.success[0].value
    from core.store import Store

    with Store(workspace_env / "workbench.db") as db:
        assert "mine" in {t.id for t in db.list_taxonomies()}
        assert db.load_taxonomy("mine").node("B").name("hu") == "Béta"


def test_import_page_imports_a_file(workspace_env):
    data = (DATA / "corpora" / "cap_nyt_headlines_sample.csv").read_bytes()
    at = on_page("import_records.py", ("import.upload", "nyt.csv", data))
    assert at.selectbox(key="import.map.title.nyt.csv").value == "title"
    assert at.selectbox(key="import.map.label.nyt.csv").value == "cap_major"
    at.selectbox(key="import.label_taxonomy").select("cap").run()
    at.button(key="import.run").click().run()
    assert not at.exception
    # a new collection: its ids never collide with the demo's, whose 100 headlines have the same text
    assert at.success and "3,084 records imported from 'nyt.csv' into collection 'nyt'" in at.success[0].value
    assert "100 with the same text in another collection" in at.success[0].value


def test_import_page_adds_a_files_codes_to_the_records_stored_already(workspace_env):
    """The same file again, now with its code column, into its stored collection: the librarian
    ticks "add the file's codes", the summary counts them and the imports table lists them."""
    plain = b"id,title\nq1,Tax credit for small business\nq2,Hospital funding for rural areas\n"
    at = on_page("import_records.py", ("import.upload", "coded.csv", plain))
    at.selectbox(key="import.label_taxonomy").select("cap").run()
    at.button(key="import.run").click().run()
    assert at.success and "2 records imported" in at.success[0].value
    coded = plain.replace(b"id,title\n", b"id,title,topic\n").replace(b"business\n", b"business,15\n") \
        .replace(b"areas\n", b"areas,3\n")
    at = on_page("import_records.py", ("import.upload", "coded.csv", coded))
    at.selectbox(key="import.label_taxonomy").select("cap").run()
    at.selectbox(key="import.map.label.coded.csv").select("topic").run()
    at.selectbox(key="import.collection").select("coded").run()
    at.checkbox(key="import.add_codes").check().run()
    at.button(key="import.run").click().run()
    assert not at.exception, at.exception
    assert at.success and "2 codes added to stored records" in at.success[0].value, at.success[0].value
    table = next(d.value for d in at.dataframe if "codes added" in d.value.columns)
    assert list(table["codes added"])[0] == 2 and list(table["imported"])[0] == 0


def test_import_page_rejects_duplicate_ids_and_writes_nothing(workspace_env):
    at = on_page("import_records.py", ("import.upload", "dups.csv", b"id,title\nx-1,First\nx-2,Second\nx-1,Again\n"))
    assert at.button(key="import.run").disabled  # the records' taxonomy is chosen, never defaulted
    at.selectbox(key="import.label_taxonomy").select("").run()  # "Any taxonomy"
    at.button(key="import.run").click().run()
    assert not at.exception
    assert at.error and "nothing was written" in at.error[0].value
    assert list(at.dataframe[-2].value["row"]) == [4]


def test_models_page_lists_tries_and_checks_folders(workspace_env, tmp_path, monkeypatch):
    models_dir = tmp_path / "own-models"
    models_dir.mkdir()
    monkeypatch.setenv("WORKBENCH_MODELS", str(models_dir))
    train_tfidf(models_dir / "tiny", name="tiny", rows=1200, max_features=2000)
    (models_dir / "broken").mkdir()
    at = app("lead").run()
    at.switch_page("pages/models.py").run()
    table = at.dataframe[0].value
    assert set(table["model"]) == {"tiny", "broken"}
    assert "neither" in table.set_index("model").loc["broken", "problem"]
    assert table.set_index("model").loc["tiny", "languages"] in ("en", "not declared")
    at.selectbox(key="models.detail_model").select("tiny").run()
    frames = [d.value for d in at.dataframe]
    missing = next(f for f in frames if list(f.columns) == ["code", "level", "path"])  # nodes it cannot suggest
    tiny_codes = set(json.loads((models_dir / "tiny" / "workbench.json").read_text())["codes"])
    assert len(missing) == 48 - len(tiny_codes) - 2 and not set(missing["code"]) & (tiny_codes | {"3", "5"})
    assert any("Cannot suggest" in m.value for m in at.markdown)
    assert any("f1" in f.columns and "precision" in f.columns for f in frames)  # held-out figures per category
    at.text_area(key="models.text").input("unemployment, inflation and wages in the labour market").run()
    assert not at.exception
    bars = [p.proto.text for p in at.get("progress")]
    assert bars and "5.2 · Social sciences › Economics and business" in bars[0]
    at.text_input(key="models.add_path").input("tiny").run()
    at.button(key="models.add").click().run()
    assert at.success and "tiny" in at.success[0].value
    at.text_input(key="models.add_path").input(str(tmp_path)).run()
    at.button(key="models.add").click().run()
    assert at.error and "outside the models folder" in at.error[0].value
    at.text_input(key="models.add_path").input("broken").run()
    at.button(key="models.add").click().run()
    assert at.error and "neither" in at.error[0].value


def _annotate(workspace_env, model="ford-dummy", queue=None):
    """Annotate as Kovács Anna with ``model``, its queue (``queue``: what to work on) open."""
    at = app().run()
    at.text_input(key="sidebar.user").input("Kovács Anna")
    at.run()
    at.switch_page("pages/annotate.py").run()
    at.selectbox(key="annotate.model").select(model).run()
    if queue:
        at.selectbox(key="annotate.queue").select(queue).run()
    at.button(key="annotate.open").click().run()
    assert not at.exception, at.exception
    return at


def _db(workspace_env):
    from core.store import Store

    return Store(workspace_env / "workbench.db")


def test_annotate_accept_correct_undo_journey(workspace_env):
    at = _annotate(workspace_env)
    def shown_id():
        return next(c.value for c in at.caption if c.value.startswith("id "))

    first = shown_id()
    at.button(key="annotate.accept").click().run()
    assert not at.exception, at.exception
    assert at.toast and at.toast[0].value.startswith("Saved (suggestion accepted)")  # a toast, not a banner
    with _db(workspace_env) as db:
        events = db.latest_events("Kovács Anna", "ford")
        assert len(events) == 1
        accepted = events[0]
        assert accepted.action == "accept" and accepted.role == "expert" and len(accepted.codes) == 1
        assert accepted.shown and accepted.shown[0].model == "ford-dummy" and accepted.shown[0].code == accepted.codes[0]
        assert db.labels_of(accepted.record_id, "ford")["Kovács Anna"].codes == accepted.codes
    assert shown_id() != first  # moved on to the next record

    # correct through the search box, with a reason; a suggestion marked relevant but not the best
    # (pressed twice it is unmarked: the second one's mark is taken back)
    marked = next(i for i in (1, 2) if "5.2" not in at.button(key=f"annotate.pick.{i}").label)
    at.button(key=f"annotate.partly.{marked}").click().run()
    at.button(key=f"annotate.partly.{3 - marked}").click().run()
    at.button(key=f"annotate.partly.{3 - marked}").click().run()
    assert any(c.value.startswith("Marked relevant, not the best") for c in at.caption)
    at.text_input(key="annotate.reason").input("economics, not maths")
    at.text_input(key="annotate.query").input("economics").run()
    at.selectbox(key="annotate.hit").select("5.2").run()
    at.button(key="annotate.hit_use").click().run()
    assert not at.exception, at.exception
    assert "relevant, not the best" in at.toast[0].value
    assert not any(c.value.startswith("Marked relevant") for c in at.caption)  # the mark stays with its record
    with _db(workspace_env) as db:
        corrected = db.latest_events("Kovács Anna", "ford")[0]
        assert corrected.codes == ("5.2",) and corrected.reason == "economics, not maths"
        assert corrected.action in ("correct", "accept")
        assert [s.verdict for s in corrected.shown[:2]] == ["partly" if i + 1 == marked else "" for i in range(2)]
        assert db.labels_of(corrected.record_id, "ford")["Kovács Anna"].codes == ("5.2",)
    at.switch_page("pages/performance.py").run()  # the verdicts, per model version, beside F1
    at.multiselect(key="perf.models").set_value(["ford-dummy"]).run()
    at.selectbox(key="perf.gold").select("imported").run()
    verdicts = next(d.value for d in at.dataframe if "first not the best" in d.value.columns)
    assert verdicts["judged"].tolist() == [2] and verdicts["first right"].tolist() == [0.5]
    assert verdicts["first not the best"].tolist() == [0.5 if marked == 1 else 0.0]
    at.switch_page("pages/annotate.py").run()

    # undo reverts the derived label, and brings that record back
    at.button(key="annotate.undo").click().run()
    assert not at.exception, at.exception
    with _db(workspace_env) as db:
        assert "Kovács Anna" not in db.labels_of(corrected.record_id, "ford")
        assert db.labels_of(accepted.record_id, "ford")["Kovács Anna"].codes == accepted.codes
        assert [e.action for e in db.latest_events("Kovács Anna", "ford")] == ["undo", corrected.action, "accept"]


def test_a_queue_limited_to_one_field_suggests_within_it_and_says_so(workspace_env):
    """Suggestions within a part of the tree: chosen under the queue, ranked within it on the card,
    named there, and kept with the label's provenance."""
    at = app().run()
    at.text_input(key="sidebar.user").input("Kovács Anna")
    at.run()
    at.switch_page("pages/annotate.py").run()
    at.selectbox(key="annotate.model").select("ford-dummy").run()
    at.multiselect(key="annotate.within").set_value(["5", "5.2"]).run()
    at.button(key="annotate.open").click().run()
    assert not at.exception, at.exception
    assert any(c.value.startswith("Within: 5 Social sciences") for c in at.caption)
    codes = [b.help.split(":")[0].split()[-1] for b in at.button if (b.key or "").startswith("annotate.pick.")]
    assert codes and all(c.startswith("5.") for c in codes), codes
    at.button(key="annotate.accept").click().run()
    with _db(workspace_env) as db:
        event = db.latest_events("Kovács Anna", "ford")[0]
    assert event.codes[0].startswith("5.") and all(s.within == ("5",) for s in event.shown)


def test_a_reload_finds_the_open_queue_its_filter_and_record_and_undo_after_skip_stays_put(workspace_env):
    """The queue, its language filter and the record on screen survive a reload (a new browser
    session with the same name); the queue's title names the open queue, not the panel's choice;
    undo after a skip shows the skipped record again, and Next at the end says so."""
    from ui.common import Session

    at = app().run()
    at.text_input(key="sidebar.user").input("Kovács Anna")
    at.run()
    at.switch_page("pages/annotate.py").run()
    at.selectbox(key="annotate.model").select("ford-dummy").run()
    at.selectbox(key="annotate.queue").select("language").run()
    at.selectbox(key="annotate.language").select("en").run()
    at.button(key="annotate.open").click().run()
    assert not at.exception, at.exception

    def shown_id(page):
        return next(c.value for c in page.caption if c.value.startswith("id "))

    first = shown_id(at)
    at.button(key="annotate.skip").click().run()
    assert shown_id(at) != first
    at.button(key="annotate.undo").click().run()
    assert not at.exception, at.exception
    assert shown_id(at) == first
    at.button(key="annotate.next").click().run()
    here = shown_id(at)
    at.selectbox(key="annotate.queue").select("uncertain").run()  # the panel changes; the open queue does not
    assert any(e.label.startswith("Queue · By language") for e in at.expander)
    again = app()  # a reload: a new session, the same person
    again.session_state["workbench.session"] = Session(user="Kovács Anna")
    again.run()
    again.switch_page("pages/annotate.py").run()
    assert not again.exception, again.exception
    assert shown_id(again) == here and any(e.label.startswith("Queue · By language") for e in again.expander)
    again.selectbox(key="annotate.queue").select("language").run()  # the filter was kept too
    assert again.selectbox(key="annotate.language").value == "en"


def test_annotate_finds_a_record_by_words_or_id_and_opens_it(workspace_env):
    at = _annotate(workspace_env)
    with _db(workspace_env) as db:
        target = db.records(limit=1, offset=40)[0]
    words = " ".join(target["title"].split()[:4])
    at.text_input(key="annotate.find").input(words).run()
    assert not at.exception, at.exception
    found = at.radio(key="annotate.found")
    assert any(o.startswith(target["external_id"]) for o in found.options)
    found.set_value(target["id"]).run()
    at.button(key="annotate.open_found").click().run()
    assert not at.exception, at.exception
    assert any(c.value.startswith(f"id {target['external_id']}") for c in at.caption)
    # by its id alone, then nothing for words no record has
    at.text_input(key="annotate.find").input(target["external_id"]).run()
    assert at.radio(key="annotate.found").value == target["id"]
    at.text_input(key="annotate.find").input("zzqx nonexistentword").run()
    assert not at.exception and any("No record matches" in c.value for c in at.caption)


def test_annotate_browser_drill_down_and_several_codes(workspace_env):
    at = _annotate(workspace_env)
    at.checkbox(key="annotate.multi").check().run()
    at.button(key="annotate.node.5").click().run()
    at.button(key="annotate.use_node").click().run()  # adds "5"
    at.button(key="annotate.node.5.6").click().run()
    at.button(key="annotate.use_node").click().run()  # adds "5.6"
    assert any(m.value.startswith("Chosen: 5 · Social sciences, 5.6") for m in at.markdown)
    at.button(key="annotate.save_multi").click().run()
    assert not at.exception, at.exception
    with _db(workspace_env) as db:
        event = db.latest_events("Kovács Anna", "ford")[0]
        assert event.action == "correct" and event.codes == ("5", "5.6")


def test_start_page_shows_the_default_models_building_in_the_background(workspace_env):
    """While the set-up builds the heavier default models in the background, the Start page says
    how far it is; a build whose process died says how to go on."""
    import json
    import os
    import subprocess
    import sys

    from core.models.build_progress import FILE
    from core.settings import Settings

    models = Settings.from_env().models_dir
    state = {"planned": ["ford-tfidf", "cap-tfidf", "ford-ensemble", "cap-ensemble"], "done": ["ford-tfidf", "cap-tfidf"],
             "current": "ford-ensemble", "detail": "ford-multilingual: e5 vectors 500 / 7,355", "pid": os.getpid(),
             "finished": False, "error": ""}
    (models / FILE).write_text(json.dumps(state))
    at = app().run()
    assert not at.exception, at.exception
    bar = at.get("progress")[0]
    assert bar.proto.value == 50 and "2 of 4 ready" in bar.proto.text and "ford-ensemble" in bar.proto.text
    assert any("e5 vectors 500" in c.value for c in at.caption)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    (models / FILE).write_text(json.dumps({**state, "pid": int(dead.stdout)}))
    at = app().run()
    assert any("stopped before it finished (2 of 4 ready)" in w.value for w in at.warning)
    (models / FILE).write_text(json.dumps({**state, "finished": True, "done": state["planned"]}))
    at = app().run()
    assert not at.get("progress") and not at.warning


def test_start_page_says_who_is_working_what_the_workspace_holds_and_the_next_step(workspace_env):
    at = app().run()  # the start page is the default
    assert not at.exception, at.exception
    assert at.title[0].value == "Subject classification workbench"
    text = " ".join(m.value for m in at.markdown)
    assert "records" in text and "taxonomies" in text
    assert any("Enter your name above" in i.value for i in at.info)
    assert any("labelled by experts" in c.value and "imported file" in c.value for c in at.caption)
    at.text_input(key="start.user").input("Kovács Anna").run()
    at.selectbox(key="start.role").select("librarian").run()
    assert not at.exception, at.exception
    state = at.session_state["workbench.session"]  # one session: the sidebar shows the same
    assert state.user == "Kovács Anna" and state.role == "librarian"
    assert any("go on to Bulk classify" in s.value for s in at.success)


def test_each_taxonomy_keeps_its_own_queue_and_choices(workspace_env):
    """FORD's open queue, model and filters survive a switch to CAP and back; CAP has its own."""
    at = _annotate(workspace_env)  # FORD: ford-dummy, queue open
    at.text_input(key="annotate.search_records").input("data").run()
    ford_record = next(c.value for c in at.caption if c.value.startswith("id "))
    switch = lambda t: setattr(at.session_state["workbench.session"], "taxonomy_id", t)  # noqa: E731  the sidebar's
    switch("cap")
    at.run()
    assert not at.exception, at.exception
    assert any("open the queue" in i.value for i in at.info)  # CAP has no queue open yet
    assert at.selectbox(key="annotate.model").value == "cap-dummy"
    assert at.text_input(key="annotate.search_records").value == ""
    at.selectbox(key="annotate.queue").select("language").run()
    at.button(key="annotate.open").click().run()
    assert not at.exception, at.exception
    switch("ford")
    at.run()
    assert not at.exception, at.exception
    assert next(c.value for c in at.caption if c.value.startswith("id ")) == ford_record  # the same record
    assert at.selectbox(key="annotate.model").value == "ford-dummy"
    assert at.text_input(key="annotate.search_records").value == "data"
    assert at.selectbox(key="annotate.queue").value == "uncertain"
    switch("cap")
    at.run()
    assert at.selectbox(key="annotate.queue").value == "language"


def test_performance_choices_stick_across_visits(workspace_env):
    at = app().run()
    at.switch_page("pages/performance.py").run()
    at.multiselect(key="perf.models").set_value(["ford-dummy"]).run()
    at.selectbox(key="perf.gold").select("imported").run()
    at.selectbox(key="perf.level").select(1).run()
    at.slider(key="perf.good").set_value(0.7).run()
    at.switch_page("pages/taxonomies.py").run()
    at.switch_page("pages/performance.py").run()
    assert not at.exception, at.exception
    assert at.selectbox(key="perf.gold").value == "imported" and at.selectbox(key="perf.level").value == 1
    assert at.slider(key="perf.good").value == 0.7 and at.multiselect(key="perf.models").value == ["ford-dummy"]
    assert not at.warning or all("Session State" not in w.value for w in at.warning)


def test_annotate_without_a_name_records_nothing(workspace_env):
    at = app().run()
    at.switch_page("pages/annotate.py").run()
    at.selectbox(key="annotate.model").select("ford-dummy").run()
    assert any("Enter your name" in w.value for w in at.warning)
    assert at.button(key="annotate.open").disabled  # who is working is settled before a queue opens
    assert not at.exception


def test_training_data_counts_and_download(workspace_env):
    from core.domain.labels import QueueSpec
    from core.work.annotation import Annotator

    at = app().run()  # creates the workspace
    with _db(workspace_env) as db:
        ford = db.load_taxonomy("ford")
        ann = Annotator(db, "Eva", "expert", ford)
        for i, rid in enumerate(db.queue_ids(QueueSpec("ford", order="import"), limit=30)):
            ann.correct(rid, ["1.2" if i % 3 else "5.6"], [])
    at.switch_page("pages/training_data.py").run()
    assert not at.exception, at.exception
    counts = at.dataframe[0].value
    assert dict(zip(counts["code"], counts["rows"])) == {"1.2": 20, "5.6": 10}
    assert at.metric[0].value == "30"
    at.selectbox(key="training.level").select(1).run()
    counts = at.dataframe[0].value
    assert dict(zip(counts["code"], counts["rows"])) == {"1": 20, "5": 10}
    at.checkbox(key="training.imported").check().run()
    assert int(at.metric[0].value.replace(",", "")) > 30  # the demo's imported labels join in


def test_performance_dashboard_on_imported_labels(workspace_env):
    at = app().run()
    at.switch_page("pages/performance.py").run()
    assert not at.exception, at.exception
    at.multiselect(key="perf.models").set_value(["ford-dummy"]).run()
    at.selectbox(key="perf.gold").select("imported").run()  # the gold records are scored at once (under 10 s)
    assert not at.exception, at.exception
    assert at.metric[0].label == "Gold records" and int(at.metric[0].value.replace(",", "")) > 50
    assert 0 <= float(at.metric[1].value) <= 1
    spec = at.get("vega_lite_chart")[0].proto.spec
    assert '"gold records"' in spec and '"triangle-up"' in spec and "#0072B2" in spec
    table = at.dataframe[1].value  # per category (0 is the chosen category's records)
    assert {"code", "support", "precision", "recall", "f1", "lenient_f1"} <= set(table.columns)
    ece = next(d.value for d in at.dataframe if "expected calibration error" in d.value.columns)
    assert list(ece["model"]) == ["ford-dummy"] and 0 <= ece["expected calibration error"][0] <= 1
    assert any('"strokeDash"' in c.proto.spec for c in at.get("vega_lite_chart"))  # the reliability diagram
    at.selectbox(key="perf.level").select(1).run()
    assert not at.exception
    assert set(at.dataframe[1].value["code"]) <= {"1", "2", "3", "4", "5", "6"}
    at.selectbox(key="perf.category").select("5").run()
    at.button(key="perf.open_annotate").click().run()
    assert not at.exception, at.exception


def test_performance_thresholds_are_kept_for_triage_and_the_card(workspace_env):
    """The Thresholds tab: per category, the threshold at the lead's precision target with its
    curve; kept for the version, triage starts from them and the card says "no confident
    suggestion" under them. An expert may look, not keep."""
    from core.work import thresholds as th
    from ui.common import Session

    at = _performance_as(Session(user="Kovács Anna", role="lead"))
    at.select_slider(key="perf.target").set_value(0.8).run()
    assert not at.exception, at.exception
    table = next(d.value for d in at.dataframe if "pooled" in d.value.columns)
    assert {"code", "name", "records", "threshold", "accepted", "precision"} <= set(table.columns)
    assert table["records"].sum() > 50 and any(c.value.startswith("At these thresholds") for c in at.markdown)
    assert any('"strokeDash"' in c.proto.spec and '"coverage"' in c.proto.spec for c in at.get("vega_lite_chart"))
    at.button(key="perf.keep_thresholds").click().run()
    assert not at.exception, at.exception
    with _db(workspace_env) as db:
        kept = th.saved(db, "ford", "ford-dummy", "d1")
    assert kept["target"] == 0.8 and kept["by"] == "Kovács Anna" and len(kept["thresholds"]) == len(table)
    assert any(c.value.startswith("Kept for triage") for c in at.caption)
    # the card: a record whose top code is under its kept threshold has no confident suggestion
    at.switch_page("pages/annotate.py").run()
    at.selectbox(key="annotate.model").select("ford-dummy").run()
    at.button(key="annotate.open").click().run()
    assert not at.exception, at.exception
    first = at.button(key="annotate.pick.1")
    top = first.help.split(":")[0].split()[-1]  # "Accept 5.2: …"
    score = float(first.label.split("·")[1].strip().rstrip("%")) / 100  # "**1** · 42% · …"
    threshold = kept["thresholds"].get(top)
    if threshold is None or abs(score - threshold) > 0.01:
        unsure = threshold is None or score < threshold
        assert unsure == any("No confident suggestion" in c.value for c in at.caption), (top, score, kept)
    # an expert sees the thresholds but may not keep them
    assert _performance_as(Session(user="Eva", role="expert")).button(key="perf.keep_thresholds").disabled


def _performance_as(session):
    """The Performance page as ``session``'s person, ford-dummy measured on the imported labels."""
    at = app()
    at.session_state["workbench.session"] = session
    at.run()
    at.switch_page("pages/performance.py").run()
    at.multiselect(key="perf.models").set_value(["ford-dummy"]).run()
    at.selectbox(key="perf.gold").select("imported").run()
    return at


def test_annotate_opens_the_labels_that_look_wrong(workspace_env):
    """Work on "Labels that look wrong": the demo's imported FORD labels, the most doubtful first,
    each card showing its imported label beside the model's suggestions."""
    from ui.common import QUEUES_KEY

    at = _annotate(workspace_env, queue="suspect")
    assert not at.exception, at.exception
    queue = at.session_state[QUEUES_KEY]["ford"]
    assert queue.work_on == "suspect" and queue.total > 0 and queue.spec.status == "any"
    assert any("Label in the imported file" in c.value for c in [*at.caption, *at.markdown])


def _cell_records(at):
    """The records table of the chosen confusion cell: the first list of records after the matrix."""
    frames = [d.value for d in at.dataframe]
    after = next(k for k, f in enumerate(frames) if "gold label" in f.columns)
    return next(f for f in frames[after + 1:] if {"id", "title", "gold", "predicted"} <= set(f.columns))


def test_performance_confusions_click_through_to_their_records(workspace_env):
    """The Confusions tab: the top pairs with their share of the gold category, the matrix with names,
    a language filter, and a cell's records opened in Annotate (as many as it listed)."""
    at = app().run()
    at.switch_page("pages/performance.py").run()
    at.multiselect(key="perf.models").set_value(["ford-dummy"]).run()
    at.selectbox(key="perf.gold").select("imported").run()
    at.selectbox(key="perf.level").select(1).run()
    assert not at.exception, at.exception
    spec = next(c.proto.spec for c in at.get("vega_lite_chart") if '"blues"' in c.proto.spec)
    assert '"cell"' in spec and "Natural sciences" in spec  # a click picks a cell; names, not bare codes
    matrix = next(d.value for d in at.dataframe if "gold label" in d.value.columns)
    assert {"gold", "predicted", "count", "share"} <= set(matrix.columns)
    assert matrix.groupby("gold")["share"].sum().round(3).eq(1.0).all()
    assert at.selectbox(key="perf.cell").value == "\t".join(matrix.sort_values("count").iloc[-1][["gold", "predicted"]])
    missed = matrix[matrix["gold"] != matrix["predicted"]].sort_values("count").iloc[-1]  # the worst confusion
    at.selectbox(key="perf.cell").select(f"{missed['gold']}\t{missed['predicted']}").run()
    listed = _cell_records(at)
    assert len(listed) == missed["count"]  # the cell's count is the records it lists
    assert all(missed["gold"] in g.split(", ")[0] for g in listed["gold"])
    language = at.selectbox(key="perf.confusion_language")
    language.select(language.options[1]).run()  # one language's confusions
    assert not at.exception, at.exception
    listed = _cell_records(at)
    at.button(key="perf.open_cell").click().run()
    assert not at.exception, at.exception
    from ui.common import QUEUES_KEY

    queue = at.session_state[QUEUES_KEY]["ford"]  # the queue Annotate opens holds the cell's records
    assert queue.total == len(listed) and queue.spec.predicted_codes == ()


def _latest_job_finished(home, seconds: float = 120):
    """The newest bulk job of the workspace, once it is done or failed (or ``seconds`` have passed)."""
    import time

    from core.jobs import get_job, list_jobs

    with _db(home) as db:
        job_id = list_jobs(db)[0].id
        deadline = time.time() + seconds
        while get_job(db, job_id).status not in ("done", "failed") and time.time() < deadline:
            time.sleep(0.2)
        return get_job(db, job_id)


def test_bulk_classify_upload_run_download_triage(workspace_env, tmp_path):

    import pandas as pd

    titles = pd.read_csv(DATA / "corpora" / "sci_mag_paper_titles_dev.csv", dtype=str)["title"].head(800)
    data = pd.DataFrame({"id": [f"b{i}" for i in range(800)], "title": titles}).to_csv(index=False).encode()
    at = app("librarian").run()
    at.text_input(key="sidebar.user").input("Lib Rary")
    at.run()
    at.switch_page("pages/bulk_classify.py").run()
    assert not at.exception, at.exception
    at.file_uploader(key="bulk.upload").upload("mtmt.csv", data, "text/csv").run()
    at.multiselect(key="bulk.models").set_value(["ford-dummy"]).run()
    at.button(key="bulk.start").click().run()
    assert not at.exception, at.exception
    assert at.toast and "started" in at.toast[0].value
    # the form is empty again: nothing invites a second, duplicate job
    assert not at.file_uploader(key="bulk.upload.1").value and not any(b.key == "bulk.start" for b in at.button)
    job = _latest_job_finished(workspace_env)
    job_id = job.id
    assert job.status == "done" and job.done == 800, job.error
    at.run()
    assert not at.exception, at.exception
    assert any(s.value.startswith(f"Results of job #{job_id}") for s in at.subheader)
    results = next(d.value for d in at.dataframe if "code_1" in d.value.columns)
    assert list(results.columns) == ["id", "title", "code_1", "name_1", "score_1", "code_2", "name_2", "score_2",
                                     "code_3", "name_3", "score_3"]
    assert results["code_1"].str.len().gt(0).all()
    # the default rule is conformal; the dummy model has no held-out rows, so it accepts nothing and says so
    assert any("no held-out records" in w.value for w in at.warning)
    at.radio(key=f"bulk.triage_mode.{job_id}").set_value("thresholds").run()
    at.button(key="bulk.triage").click().run()
    assert not at.exception, at.exception
    with _db(workspace_env) as db:
        assert db.db.execute("SELECT count(*) FROM annotations WHERE role = 'machine'").fetchone()[0] > 0
    # a second job started becomes the selected one (its results are the ones shown)
    at.file_uploader(key="bulk.upload.1").upload("mtmt.csv", data, "text/csv").run()
    at.multiselect(key="bulk.models").set_value(["ford-dummy"]).run()
    at.button(key="bulk.start").click().run()
    assert not at.exception, at.exception
    second = _latest_job_finished(workspace_env, 0).id
    assert second == job_id + 1 and at.selectbox(key="bulk.pick").value == second
    # the CAP page lists CAP's jobs, not these FORD ones (unless asked for every taxonomy's)
    from ui.common import Session

    cap = app()
    cap.session_state["workbench.session"] = Session(user="Lib Rary", role="librarian", taxonomy_id="cap")
    cap.run()
    cap.switch_page("pages/bulk_classify.py").run()
    assert not cap.exception, cap.exception
    assert any(i.value == "No jobs yet." for i in cap.info)
    cap.toggle(key="bulk.every_taxonomy").set_value(True).run()
    assert len(next(d.value for d in cap.dataframe if "file" in d.value.columns)) == 2


def test_bulk_classify_routes_each_row_by_its_language(workspace_env):
    """The routed form: taxonomies instead of models, the plan per language of the file's first rows,
    a job whose results name each row's model and language, and the per-language figures."""

    import pandas as pd

    rows = [{"id": f"h{i}", "title": f"A magyar gazdaság és a költségvetés helyzete {i}. évben"} for i in range(20)]
    rows += [{"id": f"e{i}", "title": f"The state of the economy and the budget in year {i}"} for i in range(20)]
    data = pd.DataFrame(rows).to_csv(index=False).encode()
    at = app("librarian").run()
    at.text_input(key="sidebar.user").input("Lib Rary")
    at.run()
    at.switch_page("pages/bulk_classify.py").run()
    at.file_uploader(key="bulk.upload").upload("mixed.csv", data, "text/csv").run()
    at.toggle(key="bulk.route").set_value(True).run()
    assert not at.exception, at.exception
    assert at.multiselect(key="bulk.route_taxonomies").value == ["ford"]
    plan = next(d.value for d in at.dataframe if "rows among the first" in d.value.columns)
    assert set(plan["language"]) >= {"Hungarian", "English"} and set(plan["ford"]) == {"ford-dummy"}
    at.button(key="bulk.start").click().run()
    assert not at.exception, at.exception
    job = _latest_job_finished(workspace_env)
    assert job.status == "done" and job.params.route == ["ford"], job.error
    at.run()
    assert not at.exception, at.exception
    results = next(d.value for d in at.dataframe if "ford_code_1" in d.value.columns)
    assert list(results.columns)[-2:] == ["ford_model", "row_language"] and set(results["ford_model"]) == {"ford-dummy"}
    assert (results.loc[results["id"].str.startswith("h"), "row_language"] == "hu").mean() >= 0.9
    figures = next(d.value for d in at.dataframe if "ford · mean confidence" in d.value.columns)
    assert figures["rows"].sum() == 40


def test_import_page_backs_up_the_workspace(workspace_env):
    at = on_page("import_records.py")
    at.button(key="import.backup").click().run()
    assert not at.exception, at.exception
    assert at.success and "chain intact" in at.success[0].value
    backups = list((workspace_env / "backups").glob("workbench-*.db"))
    assert len(backups) == 1 and backups[0].with_name(backups[0].name + ".chain.json").exists()


def test_models_page_backs_up_the_workspace(workspace_env):
    at = on_page("models.py")
    at.button(key="models.backup").click().run()
    assert not at.exception, at.exception
    assert at.success and "chain intact" in at.success[-1].value


@pytest.mark.slow
def test_train_promote_and_the_next_record_gets_the_new_models_suggestions(workspace_env):
    """The loop in the app: a lead trains a version in the background from the experts' labels,
    sees its figures beside the model in use, promotes it, and Annotate suggests with it."""
    import time


    at = lead_with_corrections(workspace_env)
    assert not at.exception, at.exception
    assert any("new expert correction" in c.value for c in at.caption)
    at.selectbox(key="versions.kind").select("tfidf")
    at.button(key="versions.train").click().run()
    assert not at.exception, at.exception
    with _db(workspace_env) as db:
        from core.jobs.training import training_jobs

        for _ in range(600):
            job = training_jobs(db)[0]
            if job.finished:
                break
            time.sleep(0.2)
    assert job.status == "done", job.error
    at.run()
    assert not at.exception, at.exception
    table = next(d.value for d in at.dataframe if "folder" in d.value.columns)
    assert list(table["folder"]) == ["ford-v1-tfidf"] and table["micro F1 when trained"][0] > 0
    at.selectbox(key="versions.target").select("ford-v1-tfidf")
    at.button(key="versions.promote").click().run()
    assert not at.exception, at.exception
    assert at.success and "model in use" in at.success[0].value
    at.switch_page("pages/annotate.py").run()
    assert at.selectbox(key="annotate.model").value == "ford-v1-tfidf"  # the model in use comes first
    at.button(key="annotate.open").click().run()
    assert not at.exception, at.exception
    assert any("ford-v1-tfidf" in m.value for m in at.markdown if "Suggestions" in m.value)
    at.switch_page("pages/models.py").run()
    at.button(key="versions.rollback").click().run()
    assert at.success and "default model" in at.success[0].value


def lead_with_corrections(workspace_env):
    """A lead on the Models page after an expert confirmed every demo record's imported label."""
    import json

    from core.work.annotation import Annotator

    at = app().run()  # creates the workspace with the demo records
    at.text_input(key="sidebar.user").input("Lead Lili")
    at.selectbox(key="sidebar.role").select("lead")
    at.run()
    with _db(workspace_env) as db:
        ford = db.load_taxonomy("ford")
        ann = Annotator(db, "Szabó Éva", "expert", ford)
        for row in db.imported_label_rows("ford"):
            ann.correct(row["record_id"], json.loads(row["codes"])[:1], ())
    at.switch_page("pages/models.py").run()
    return at


@pytest.mark.slow
def test_a_lead_fine_tunes_from_the_models_page_and_sees_the_curve(workspace_env):
    """The Models page's form is the kind's fields: the lead picks Fine-tune, shortens it, trains in
    the background, and the new version shows its per-epoch curve."""
    import time


    at = lead_with_corrections(workspace_env)
    at.selectbox(key="versions.kind").select("finetune").run()
    assert not at.exception, at.exception
    assert at.selectbox(key="versions.recipe.finetune.encoder").value == "all-MiniLM-L6-v2"
    assert at.number_input(key="versions.recipe.finetune.epochs").value == 0  # automatic
    assert any(e.label.startswith("More settings of finetune") for e in at.expander)
    at.number_input(key="versions.recipe.finetune.epochs").set_value(1)
    at.number_input(key="versions.recipe.finetune.max_length").set_value(32)
    at.button(key="versions.train").click().run()
    assert not at.exception, at.exception
    with _db(workspace_env) as db:
        from core.jobs.training import training_jobs

        for _ in range(1500):
            job = training_jobs(db)[0]
            if job.finished:
                break
            time.sleep(0.2)
    assert job.status == "done", job.error
    assert job.options.params == {"epochs": 1, "max_length": 32}
    at.run()
    assert not at.exception, at.exception
    table = next(d.value for d in at.dataframe if "folder" in d.value.columns)
    assert list(table["folder"]) == ["ford-v1-finetune"]
    assert at.selectbox(key="versions.curve_choice").value.folder == "ford-v1-finetune"
    assert any("Epoch 1 is the one kept" in c.value for c in at.caption)


def test_a_hungarian_record_on_day_one_says_no_model_knows_hungarian(workspace_env, tmp_path):
    """An English-only model on a Hungarian record: the suggestions are marked low-confidence and
    the page says how the workbench will learn Hungarian."""
    import dataclasses
    import os

    from core.models.manifest import load_manifest, write_manifest

    models = os.environ["WORKBENCH_MODELS"]
    english = f"{models}/ford-english"
    import shutil

    shutil.copytree(f"{models}/ford-dummy", english)
    write_manifest(english, dataclasses.replace(load_manifest(english), name="ford-english", languages=("en",)))
    at = app().run()
    at.text_input(key="sidebar.user").input("Kovács Anna")
    at.run()
    with _db(workspace_env) as db:
        from core.domain.labels import QueueSpec

        first = db.queue_ids(QueueSpec("ford", order="import"), limit=1)[0]  # an unlabelled FORD record
        with db.write():
            db.db.execute("UPDATE records SET language = 'hu' WHERE id = ?", [first])
    at.switch_page("pages/annotate.py").run()
    at.selectbox(key="annotate.model").select("ford-english").run()
    at.selectbox(key="annotate.queue").select("language").run()
    at.selectbox(key="annotate.language").select("hu").run()
    at.button(key="annotate.open").click().run()
    assert not at.exception, at.exception
    assert any("No model in use is trained for Hungarian" in c.value for c in at.caption)
    assert any("low confidence" in m.value for m in at.markdown if "Suggestions" in m.value)


def test_the_interface_speaks_hungarian(workspace_env):
    """The sidebar's interface switch: the start page, navigation and the Annotate card's labels in
    Hungarian; the keys (and what they do) unchanged."""
    from ui.common import Session

    at = app()
    at.session_state["workbench.session"] = Session(user="Kovács Anna", ui="hu")  # as the sidebar switch leaves it
    at.run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Tárgyszó-besoroló munkapad"
    assert any(h.value == "Következő lépés" for h in at.subheader)
    assert any("Címkézés" in s.value for s in at.success)  # "go on to Annotate"
    at.switch_page("pages/annotate.py").run()
    assert at.title[0].value == "Címkézés"
    assert at.button(key="annotate.open").label == "Munkasor megnyitása"
    at.selectbox(key="annotate.model").select("ford-dummy").run()
    at.button(key="annotate.open").click().run()
    assert not at.exception, at.exception
    assert at.button(key="annotate.accept").label == "Első elfogadása"
    assert at.button(key="annotate.skip").label == "Kihagyás"
    at.button(key="annotate.accept").click().run()
    assert not at.exception, at.exception
    assert at.session_state["workbench.session"].ui == "hu"


def _visible_texts(at) -> list[str]:
    """Titles, headings, widget labels, messages and captions of the page as drawn."""
    texts = [e.value for kind in ("title", "header", "subheader", "caption", "info", "warning", "success", "error")
             for e in getattr(at, kind)]
    for kind in ("button", "selectbox", "multiselect", "text_input", "number_input", "radio", "checkbox", "toggle",
                 "slider", "text_area", "date_input"):
        texts += [w.label for w in getattr(at, kind)]
    texts += [tab.label for tab in at.tabs] + [e.label for e in at.expander]
    return [x for x in texts if isinstance(x, str) and x.strip()]


@pytest.mark.parametrize("page", PAGES)
def test_every_page_speaks_hungarian(page, workspace_env):
    """With the interface in Hungarian, a page shows none of its own English texts: every text the
    page draws in English has a Hungarian entry (names of models, files and codes aside)."""
    from ui.common import Session
    from ui.i18n import HU

    def drawn(ui):
        at = app()
        at.session_state["workbench.session"] = Session(user="Kovács Anna", role="lead", ui=ui, lang=ui)
        at.run()
        at.switch_page(f"pages/{page}").run()
        assert not at.exception, at.exception
        return at

    english = _visible_texts(drawn("en"))
    hungarian = drawn("hu")
    assert len(english) >= 3
    # an English text drawn the same in Hungarian and written as a sentence or a label of two words or more
    with _db(workspace_env) as db:  # the taxonomies' own names and sources are data, not the interface's texts
        data = [n for info in db.list_taxonomies() for n in (info.name, info.source)]
    untranslated = [x for x in _visible_texts(hungarian) if x in english and len(x.split()) >= 2
                    and x not in HU.values() and not any(n.replace("(", "\\(").replace(")", "\\)") in x for n in data)]
    assert not untranslated, untranslated
    assert hungarian.title[0].value != drawn("en").title[0].value or page == "start.py"


# English words that are never Hungarian ("is", "be" and "import" are, or start Hungarian words)
ENGLISH_WORDS = frozenset(["the", "of", "and", "to", "for", "with", "from", "on", "at", "are", "was", "were", "not", "none", "yes", "done", "complete", "completed", "expert", "accept", "accepted", "reject", "rejected", "skip", "skipped", "epoch", "epochs", "records", "record", "rows", "row", "file", "files", "model", "models", "language", "languages", "domain", "labelled", "label", "labels", "imported", "queue", "queues", "job", "jobs", "running", "queued", "failed", "cancelled", "version", "versions", "training", "trained", "evaluation", "set", "category", "categories", "confidence", "score", "scores", "this", "that", "these", "those", "what", "which", "who", "when", "where", "how", "all", "any", "each", "every", "other", "another", "new", "old", "more", "less", "than", "suggestion", "suggestions", "correction", "corrections", "annotator", "annotators", "team", "lead", "leads", "round", "rounds", "true", "false", "upload", "browse", "drag", "drop", "limit", "per", "status", "created", "finished", "started", "by", "name", "names", "code", "codes", "level", "source", "sources", "total", "count", "counts", "share", "mean", "median", "chart", "table", "page", "pages", "open", "close", "save", "delete", "size", "texts", "go", "as", "machine", "path", "collection", "format"])


def english_words_in(at) -> list[tuple[str, list[str]]]:
    """Texts of a page drawn in Hungarian that hold English words: headings, captions, messages,
    widget labels and options, tab and expander labels, table headers, and table cells that are one
    word (a status, a role); record texts and names stay as they are."""
    import re

    texts = _visible_texts(at)
    for kind in ("selectbox", "radio", "multiselect"):
        for w in getattr(at, kind):
            texts += [str(o) for o in (w.options or [])]
    for frame in at.dataframe:
        value = frame.value
        texts += [str(c) for c in value.columns]
        for column in value.columns:
            if value[column].dtype == object:
                texts += [v for v in value[column].head(20) if isinstance(v, str) and len(v.split()) == 1]
                texts += ["None" for v in value[column].head(20) if v is None]
    found = []
    for text in texts:
        named = re.sub(r"`[^`]*`|(?:/[\w.-]+)+", " ", text)  # file formats' column names, paths
        words = [w for w in re.findall(r"[^\W\d_]+", named) if w.lower() in ENGLISH_WORDS]
        if words:
            found.append((text[:120], words))
    return found


@pytest.mark.parametrize("page", PAGES)
def test_no_english_word_is_left_in_the_hungarian_interface(page, workspace_env):
    """Every page in Hungarian, as a lead on the demo workspace with its imported labels: no English
    word outside names (of models, files, records), in any heading, message, label, option, table
    header or status cell."""
    from ui.common import Session

    at = app()
    at.session_state["workbench.session"] = Session(user="Kovács Anna", role="lead", ui="hu", lang="hu")
    at.run()
    at.switch_page(f"pages/{page}").run()
    assert not at.exception, at.exception
    assert not english_words_in(at), english_words_in(at)


def test_the_models_form_trains_every_recipe_the_command_line_can_and_retrain_says_what_it_uses(workspace_env):
    """The ensemble's members have their own settings on the form (the command line's
    ``--set head.encoder=e5``); the Retrain hint names the one-click recipe and the labels it uses."""
    at = lead_with_corrections(workspace_env)
    assert not at.exception, at.exception
    hint = next(c.value for c in at.caption if c.value.startswith("Retrain trains"))
    assert "TF-IDF" in hint and "expert labels" in hint and "imported codes" in hint, hint
    at.selectbox(key="versions.kind").select("ensemble").run()
    assert any(e.label == "Settings of the head member" for e in at.expander)
    at.selectbox(key="versions.recipe.ensemble.head.encoder").select("e5").run()
    job = queued_job(at, "versions.train", workspace_env)
    assert job.options.kind == "ensemble" and job.options.params == {"head.encoder": "e5"}


def queued_job(at, button: str, workspace_env):
    """The training job a click on ``button`` queued, cancelled at once (what it would train is the
    point, not the training)."""
    from core.jobs.training import cancel_training, training_jobs

    at.button(key=button).click().run()
    assert not at.exception, at.exception
    with _db(workspace_env) as db:
        job = training_jobs(db)[0]
        cancel_training(db, job.id)
    return job


def test_a_lead_trains_the_fast_twin_or_the_fine_tuned_mix_of_a_hungarian_recipe_from_the_models_page(
        workspace_env):
    """Most labels Hungarian: the one-click recipe reads the multilingual encoder, and the Models
    page offers its fast twin (the head on e5's static vectors) for bulk jobs in the fast tier; the
    labels are long speeches, so it also offers the slower, better mix with e5 fine-tuned, with its
    time here (on a CPU: on a GPU it is the Retrain's recipe itself)."""
    import pandas as pd

    from tests.conftest import import_frame, shared_file

    at = app().run()
    at.text_input(key="sidebar.user").input("Lead Lili")
    at.selectbox(key="sidebar.role").select("lead")
    at.selectbox(key="sidebar.taxonomy").select("cap")
    at.run()
    speeches = pd.read_csv(shared_file("corpora", "cap_hu_pre_agenda_speeches_sample.csv"), dtype=str,
                           keep_default_na=False)
    speeches["id"] = [f"hu{i}" for i in range(len(speeches))]
    with _db(workspace_env) as db:
        import_frame(db, speeches, "felszolalasok.csv", {"id": "id", "title": "agenda_item_title",
                                                          "abstract": "text", "label": "cap_major"},
                     taxonomy_id="cap", default_language="hu")
    at.switch_page("pages/models.py").run()
    assert not at.exception, at.exception
    offer = next(c.value for c in at.caption if c.value.startswith("For bulk jobs in the fast tier"))
    assert "static vectors" in offer and "imported codes" in offer, offer
    job = queued_job(at, "versions.fast_twin", workspace_env)
    assert job.options.kind == "ensemble" and job.options.params == {"head.encoder": "e5-fast"}
    assert job.options.include_imported
    from core.work.one_click import FINETUNE_PARAMS

    offer = next(c.value for c in at.caption if c.value.startswith("Also possible, and slower"))
    assert "fine-tuned" in offer and "minutes here" in offer and "imported codes" in offer, offer
    assert "evaluation set" in offer and "0.479" in offer, offer
    job = queued_job(at, "versions.finetuned", workspace_env)
    assert job.options.kind == "ensemble" and job.options.params == FINETUNE_PARAMS and job.options.include_imported
