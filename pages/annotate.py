"""Annotate: a queue of records, the model's suggestions, a hierarchy browser, and every action
stored as an event with its provenance. Keyboard: 1-9, A, X, S, U, N, P."""

import json

import streamlit as st

from core.errors import WorkbenchError
from core.models.limits import describe
from core.work.annotation import model_view, why_empty
from core.work.evaluation_set import trained_on
from core.work.serving import serving
from core.work.suggesting import meaningful, suggestion_source
from core.work.team import scope_notes, visibility
from core.work.thresholds import confidence_note
from ui.card_actions import FLASH, CardActions
from ui.common import (
    ROLES,
    PageContext,
    classifier,
    dataframe,
    may,
    open_store,
    page_context,
    plain,
    show_error,
    show_errors,
)
from ui.evidence_panel import card_evidence, evidence_line, evidence_panel
from ui.i18n import t
from ui.learning import retrain_hint
from ui.queue_panel import PENDING, QUEUES, current_queue, queue_panel
from ui.widgets import Browser

VIEWS = "annotate.views"
CARD_CHARS = 240  # text shown on the card before "Whole text"
CARD_SUGGESTIONS = 5  # suggestion buttons on the card (keys 1-5); the browser scores every node
SHORTCUTS = "**1-5** choose suggestion · **A** accept the top one · **B** the top one is relevant, not the best · " \
            "**X** reject all · **S** skip · **U** undo · **N** next · **P** previous"


def get_view(clf, tax, record: dict, db=None, within: tuple = ()):
    """A model's view of a record (within the queue's limit), kept for this session (scoring is
    not repeated on reruns)."""
    views = st.session_state.setdefault(VIEWS, {})
    key = (record["id"], clf.manifest.name, clf.manifest.version, tax.id, tuple(within))
    if key not in views:
        if len(views) > 200:
            views.clear()
        views[key] = model_view(clf, tax, record, top_k=9, store=db, within=within)
    return views[key]


def gold_actions(db, tax, lang, record: dict, resolve) -> None:
    """A lead's adjudication: one of the experts' labels, or any node, becomes the record's gold label."""
    labels = {who: label for who, label in db.labels_of(record["id"], tax.id).items() if label.role != "machine"}
    disputes = st.session_state.get("annotate.queue") == "disputes"
    with st.expander(t("Resolve into a gold label"), expanded=disputes):
        gold = [who for who, label in labels.items() if label.action == "gold"]
        if gold:
            st.caption(t("Resolved already (by {0}); a new gold label replaces it.").format(plain(", ".join(gold))))
        options: dict[tuple[str, ...], list[str]] = {}
        for who, label in labels.items():
            if label.action != "gold":
                options.setdefault(tuple(label.codes), []).append(who)
        for i, (codes, whos) in enumerate(options.items()):
            text = ", ".join(tax.label(c, lang) for c in codes) if codes else t("no code (rejected)")
            st.button(t("Gold: {0} ({1})").format(plain(text), plain(", ".join(whos))), key=f"annotate.gold.{i}",
                      on_click=resolve, args=(list(codes),), disabled=not codes, width="stretch")
        st.caption(t("Another code: open its node in the hierarchy browser (queue 'Disagreements to resolve') and "
                     "press 'Gold label: this node'."))


@st.fragment
def card(ctx: PageContext) -> None:
    """The record on screen, its suggestions, the actions and the hierarchy browser: a key press
    reruns this part only, not the queue panel above (with hundreds of thousands of records, the
    queue's counts are the slow part of a full rerun). It opens its own store: on a partial rerun
    the page's store is closed."""
    try:
        with open_store() as db:
            _card(ctx, db)
    except WorkbenchError as exc:
        show_error(exc)


def card_views(ctx: PageContext, db, queue, record: dict):
    """The models whose suggestions the card shows (the model in use for the record's language, or
    the queue's; a second model side by side) and what the person may see of the record."""
    tax, state = ctx.tax, ctx.state
    chosen = serving(db, tax.id, record.get("language") or "", ctx.cfg.models_dir, ctx.models,
                     picked=ctx.model(queue.spec.model_name))
    qmodel, promotion = chosen.model, chosen.promotion
    source = suggestion_source(ctx.models, qmodel, record.get("language") or "", promotion=promotion)
    second = ctx.model(st.session_state.get("annotate.model2", "none"))
    view = second_view = None
    with show_errors():
        within = queue.spec.within
        view = get_view(classifier(qmodel.folder), tax, record, db, within) if qmodel is not None else None
        second_view = get_view(classifier(second.folder), tax, record, db, within) if second is not None else None
    seen = visibility(db, tax.id, record["id"], state.user)  # blind double coding, known-answer records
    notes = scope_notes(db, tax)
    if not seen.suggestions:
        view = second_view = None
    shown = list(meaningful(view.suggestions))[:CARD_SUGGESTIONS] if view else []
    evidence = card_evidence(ctx, db, record, qmodel) if seen.suggestions else None
    return view, second_view, qmodel, source, seen, notes, shown, evidence


def record_panel(ctx: PageContext, db, record: dict, seen) -> None:
    """The record: its title, where it comes from, the start of its text, and the labels the
    person may see."""
    tax, lang, state = ctx.tax, ctx.lang, ctx.state
    abstract = record["abstract"] or ""
    heading = record["title"] or abstract[:120] + ("…" if len(abstract) > 120 else "")
    st.markdown(f"### {plain(heading) or '(no text)'}")
    meta = [f"id {record['external_id']}", record.get("collection") or "", record["language"] or "",
            record["domain"] or "",
            str(record["year"] or ""), f"import #{record['batch_id']}" if record["batch_id"] else ""]
    imported = ""  # the label its file carried, on the same line: one line less above the suggestions
    if record["labels"] and record["label_taxonomy"] == tax.id and seen.others:
        imported = " · **" + t("Label in the imported file: ") + plain(", ".join(
            tax.label(c, lang) if c in tax else c for c in json.loads(record["labels"]))) + "**"
    st.caption(" · ".join(plain(m) for m in meta if m) + imported)
    if abstract:  # the first lines; a long text opens on demand, so the suggestions stay in view
        cut = abstract.rfind(" ", 0, CARD_CHARS) if len(abstract) > CARD_CHARS else len(abstract)
        with st.container(key="annotate.excerpt"):  # in a short window its lines are clamped (app.py)
            st.markdown(plain(abstract[:cut if cut > 0 else CARD_CHARS])
                        + ("…" if len(abstract) > CARD_CHARS else ""))
        if len(abstract) > CARD_CHARS:
            with st.expander(t("Whole text ({n} characters)").format(n=f"{len(abstract):,}")):
                st.markdown(plain(abstract))
    if record["keywords"]:
        st.markdown(t("**Keywords:** {0}").format(plain(record['keywords'])))
    if not seen.others:
        st.caption(t(":material/visibility_off: Blind: the other labels on this record show once every annotator "
                     "of it has labelled it.") + ("" if seen.suggestions else " " + t(
                         "This round shows no model suggestions on records coded twice.")))
    for who, label in db.labels_of(record["id"], tax.id).items():
        if not seen.others and who != state.user:
            continue
        text = ", ".join(tax.label(c, lang) for c in label.codes) if label.codes else "rejected"
        mark = "**You**" if who == state.user else plain(f"{who} ({label.role})")
        st.caption(f"{mark}: {plain(text)} — {label.action}, {label.updated_at[:16].replace('T', ' ')}")


def suggestions_panel(ctx: PageContext, db, view, second_view, source, notes, shown: list, actions: CardActions,
                      can_act: bool, evidence=None) -> None:
    """The suggestions as numbered buttons (keys 1-9), and a second model's beside them."""
    tax, lang = ctx.tax, ctx.lang
    cols = st.columns(2) if second_view else [st.container(gap="small")]
    with cols[0], st.container(gap="small", key="annotate.suggestions"):
        st.markdown(f"{t('**Suggestions**')} · {plain(view.model)} {plain(view.version)} · {t(source.origin)}"
                    + (f" · :orange[{t('low confidence')}]" if source.low_confidence else "") if view
                    else f"**{t('No model suggestions')}**")
        if view and view.within:
            st.caption(t("Within: {0}").format(plain(describe(tax, view.within, lang))) + (
                " · :orange[" + t("the model puts {0:.0%} of its probability outside this limit: the record may not "
                                  "belong here").format(view.outside) + "]" if view.outside >= 0.5 else ""))
        unsure = confidence_note(db, tax.id, view.model, view.version, shown[0].code, shown[0].score) \
            if view and shown else None
        if unsure:
            st.caption(":orange[" + plain(t(unsure[0]).format(*unsure[1])) + "]")
        marked = actions.partly()
        for i, s in enumerate(shown):
            b, bar, mark = st.columns([10, 2, 1], vertical_alignment="center")
            near = evidence_line(evidence, s.code, tax)
            b.button(f"**{i + 1}** · {s.score:.0%} · {plain(tax.path_label(s.code, lang))}"
                     + (f" :gray[· {near}]" if near else ""),
                     key=f"annotate.pick.{i + 1}", shortcut=str(i + 1), on_click=actions.accept, args=(i,),
                     disabled=not can_act, help=t("Accept {0}: {1}").format(s.code, tax.path_label(s.code, lang))
                     + (f"\n\n{notes[s.code].text}" if s.code in notes else ""),
                     width="stretch")
            bar.progress(min(max(s.score, 0.0), 1.0))
            mark.button(":material/thumbs_up_down:", key=f"annotate.partly.{i + 1}", on_click=actions.toggle_partly,
                        args=(i,), disabled=not can_act, type="primary" if s.code in marked else "tertiary",
                        shortcut="B" if i == 0 else None,
                        help=t("Relevant, but not the best: the mark goes with the label you save next (your "
                               "verdict on this suggestion). Press again to take it back.")
                        + (" " + t("Key: B.") if i == 0 else ""))
        if marked:
            st.caption(t("Marked relevant, not the best: {0}").format(", ".join(
                plain(tax.path_label(c, lang)) for c in marked)))
    if second_view:
        with cols[1]:
            st.markdown(f"**{plain(second_view.model)} {plain(second_view.version)}**")
            for s in second_view.suggestions:
                st.progress(min(max(s.score, 0.0), 1.0),
                            text=f"{s.score:.0%} · {plain(s.code)} · {plain(tax.path_label(s.code, lang))}")



def action_bar(ctx: PageContext, db, record: dict, view, qmodel, source, shown: list, actions: CardActions,
               can_act: bool) -> None:
    """Accept, reject, skip, undo, move; gold labels for a lead; what the card's figures mean; notes."""
    tax, lang = ctx.tax, ctx.lang
    with st.container(horizontal=True):
        st.button(t("Accept top"), key="annotate.accept", shortcut="A", on_click=actions.accept, args=(0,),
                  disabled=not can_act or not shown, type="primary")
        st.button(t("Reject all"), key="annotate.reject", shortcut="X", on_click=actions.reject, disabled=not can_act)
        st.button(t("Skip"), key="annotate.skip", shortcut="S", on_click=actions.skip, disabled=not can_act)
        st.button(t("Undo"), key="annotate.undo", shortcut="U", on_click=actions.undo, disabled=not can_act)
        # icons, named in their tooltips: the six buttons stay on one row at 1280 px
        st.button(":material/arrow_back:", key="annotate.prev", shortcut="P", on_click=actions.move, args=(-1,),
                  help=t("Previous"))
        st.button(":material/arrow_forward:", key="annotate.next", shortcut="N", on_click=actions.move, args=(1,),
                  help=t("Next"))
    if may("adjudicate") and can_act:
        gold_actions(db, tax, lang, record, actions.resolve)
    if view and len(shown) < len(view.suggestions):
        st.caption(t("{0} less likely suggestion(s) hidden (together {1:.0%}); the hierarchy browser shows every "
                     "node's score.").format(len(view.suggestions) - len(shown),
                                             sum(x.score for x in view.suggestions[len(shown):])))
    if view and qmodel is not None and trained_on(qmodel.folder, qmodel.manifest, [record])[0][0]:
        st.caption(":orange[" + t("{0} was trained on this record: its confidence here is not evidence of how it "
                                  "does on new records.").format(plain(qmodel.manifest.name)) + "]")
    if source.parts:
        note = plain(source.text(t))
        st.caption(f":orange[{note}]" if source.low_confidence else note)
    st.caption(t("Keyboard: ") + t(SHORTCUTS))
    st.text_input(t("Reason or note for the next action (optional)"), key="annotate.reason")
    n1, n2 = st.columns([4, 1], vertical_alignment="bottom")
    n1.text_input(t("Note on this record"), key="annotate.note")
    n2.button(t("Add note"), key="annotate.add_note", on_click=actions.add_note, disabled=not can_act)



def history_panel(ctx: PageContext, db, record: dict, seen) -> None:
    """Every action on the record the person may see."""
    tax, state = ctx.tax, ctx.state
    with st.expander(t("History of this record")):
        events = [e for e in db.events(record["id"], taxonomy_id=tax.id)
                  if seen.others or e.annotator == state.user]
        undone = {e.undoes for e in events if e.undoes}
        if events:
            dataframe([
                {"time": e.created_at[:19].replace("T", " "), "annotator": e.annotator, "role": e.role,
                 "action": e.action, "codes": ", ".join(e.codes), "reason": e.reason,
                 "shown": ", ".join(f"{s.code} {s.score:.2f}" for s in e.shown[:3]),
                 "model": e.shown[0].model + " " + e.shown[0].version if e.shown else "",
                 "undone": "yes" if e.id in undone else ""}
                for e in events
            ], hide_index=True, width="stretch", key="annotate.history", column_config={
                "time": st.column_config.TextColumn("time", width="small"),
                "annotator": st.column_config.TextColumn("annotator", width="small"),
                "role": st.column_config.TextColumn("role", width="small"),
                "action": st.column_config.TextColumn("action", width="small"),
                "codes": st.column_config.TextColumn("codes", width="medium"),
                "reason": st.column_config.TextColumn("reason", width="large"),
                "shown": st.column_config.TextColumn("shown", width="medium"),
                "model": st.column_config.TextColumn("model", width="medium"),
                "undone": st.column_config.TextColumn("undone", width="small")})
        else:
            st.caption(t("No actions yet."))



def hierarchy_panel(ctx: PageContext, record: dict, view, notes, actions: CardActions, can_act: bool) -> None:
    """The hierarchy browser: search, breadcrumb, the node on screen, several codes at once."""
    tax, lang = ctx.tax, ctx.lang
    st.markdown(t("**Hierarchy** · choose any node, at any level"))
    multi = st.checkbox(t("Several codes"), value=bool(view and view.multi_label), key="annotate.multi",
                        help=t("Collect several codes, then save them together."))
    browser = Browser(tax, lang, "annotate", view.node_scores if view else {})
    if st.session_state.get("annotate.node_for") != record["id"]:  # a new record starts at the top, closed
        st.session_state["annotate.node_for"] = record["id"]
        browser.open(None)
    pick = browser.search(t("Search code or name (English or Hungarian, typos forgiven)"), reset_on=record["id"])
    if pick is not None:
        if multi:
            st.button(t("Add"), key="annotate.hit_use", on_click=actions.toggle_pending, args=(pick,),
                      disabled=not can_act)
        else:
            st.button(t("Use this code"), key="annotate.hit_use", on_click=actions.choose, args=([pick],),
                      type="primary", disabled=not can_act)
    browser.breadcrumb(max_columns=6)
    current = browser.current
    if current is not None:
        st.markdown(f"**{browser.label(current, 200)}**")
        if current in notes:  # the guideline for this node
            st.caption(plain(notes[current].text[:600]) + ("…" if len(notes[current].text) > 600 else ""))
        if multi:
            st.button(t("Add this node"), key="annotate.use_node", on_click=actions.toggle_pending, args=(current,),
                      disabled=not can_act)
        else:
            st.button(t("Use this node"), key="annotate.use_node", on_click=actions.choose, args=([current],),
                      type="primary", disabled=not can_act)
        if may("adjudicate") and can_act and st.session_state.get("annotate.queue") == "disputes":
            st.button(t("Gold label: this node"), key="annotate.gold_node", on_click=actions.resolve, args=([current],))
    browser.children()

    pending = st.session_state.get(PENDING, [])
    if multi:
        chosen = plain(", ".join(tax.label(c, lang) for c in pending))
        st.markdown(t("Chosen: {0}").format(chosen or t("nothing yet")))
        p1, p2 = st.columns(2)
        p1.button(t("Save {0} code(s)").format(len(pending)), key="annotate.save_multi", on_click=actions.choose,
                  args=(list(pending),), disabled=not can_act or not pending, type="primary", width="stretch")
        p2.button(t("Clear"), key="annotate.clear_multi", on_click=lambda: st.session_state.update({PENDING: []}),
                  width="stretch")


def read_ahead(ctx: PageContext, db, queue, qmodel, record: dict) -> None:
    """Have the background fill encode the queue's next records first (a model on a sentence
    encoder reads a record once; a Hungarian speech takes the multilingual encoder a second or
    two), for the model in use and for the one that finds the card's evidence, so the expert's
    next cards find their vectors kept."""
    if not ctx.cfg.background_embed:
        return
    from core.jobs.embedding import start_embedding_fill
    from core.work.embeddings import AHEAD, cache_key, encode_ahead
    from core.work.evidence import evidence_model

    with show_errors():
        readers = {m.folder for m in (qmodel, evidence_model(ctx.models, qmodel, record.get("language") or ""))
                   if m is not None}
        keys = {cache_key(classifier(folder)) for folder in readers} - {None}
        upcoming = queue.ids[queue.position + 1:queue.position + 1 + AHEAD]
        if upcoming and any(db.records_without_embedding(key, len(upcoming), among=upcoming) for key in keys):
            encode_ahead(db, upcoming)
            start_embedding_fill(db, ctx.cfg.models_dir)  # none runs when all was encoded before


def _card(ctx: PageContext, db) -> None:
    tax, state = ctx.tax, ctx.state
    message = st.session_state.pop(FLASH, None)
    if message:  # a toast, not a banner that pushes the record down after each action
        st.toast(message[1], icon={"success": ":material/check:", "info": ":material/undo:",
                                   "warning": ":material/warning:", "error": ":material/error:"}[message[0]])
    queue = current_queue(tax)
    if queue is None:
        st.info(t("Choose what to work on above and open the queue."))
        return
    if not queue.ids:
        st.info(t("This queue is empty.") + " " + why_empty(db, queue.spec))
        return

    labelled, skipped, remaining = queue.counts(db, state.user)
    more = t(" (the first {0:,} of {1:,} matching records; reopen the queue for more)").format(
        len(queue.ids), queue.total) if queue.total > len(queue.ids) else ""
    progress = t("Labelled {labelled} · skipped {skipped} · remaining {remaining} · record {position} of {total}")
    st.progress((labelled + skipped) / len(queue.ids), text=progress.format(
        labelled=labelled, skipped=skipped, remaining=remaining, position=queue.position + 1,
        total=len(queue.ids)) + more)

    record = db.record(queue.current)
    can_act = bool(state.user)
    if not can_act:
        st.warning(t("Enter your name in the sidebar: every label records who made it."))

    left, right = st.columns([3, 2], gap="large")
    with left:  # the record first: it is on screen while a model still reads it
        record_panel(ctx, db, record, visibility(db, tax.id, record["id"], state.user))
        waiting = st.empty()
        waiting.caption(t("Reading the record…"))
    view, second_view, qmodel, source, seen, notes, shown, evidence = card_views(ctx, db, queue, record)
    waiting.empty()
    read_ahead(ctx, db, queue, qmodel, record)
    actions = CardActions(ctx, queue, record, shown)
    with left:
        suggestions_panel(ctx, db, view, second_view, source, notes, shown, actions, can_act, evidence)
        evidence_panel(ctx, db, evidence, actions)
        action_bar(ctx, db, record, view, qmodel, source, shown, actions, can_act)
        history_panel(ctx, db, record, seen)
    with right:
        hierarchy_panel(ctx, record, view, notes, actions, can_act)


with page_context() as ctx:
    db, tax, lang, state = ctx.db, ctx.tax, ctx.lang, ctx.state
    st.title(t("Annotate"))
    who = plain(state.user) or t("(enter your name in the sidebar)")
    with st.container(key="annotate.who"):  # the sidebar says the same: a short window hides it (app.py)
        st.caption(f"{t(ROLES[state.role])} {who} · {plain(t(tax.name))}")
    open_now = current_queue(tax)
    # the label names the open queue (not the panel's choice) and when it was opened: a new queue is a
    # new expander, so it folds away once opened, even when it is the same kind of queue again
    label = t("Queue") if open_now is None else t("Queue · {0} · {1:,} records · opened {2} (open to change)").format(
        t(QUEUES.get(open_now.work_on, "")) or t("found records"), len(open_now.ids), open_now.created_at[11:19])
    with st.expander(label, expanded=open_now is None):
        queue_panel(ctx)
        retrain_hint(ctx, "annotate")

    card(ctx)
