"""The Annotate card's evidence: the labelled records most like the record on screen
(``core.work.evidence``), a line of the codes they carry, a table of them and a way to open one."""

import streamlit as st

from core.work.evidence import card_evidence as evidence_for
from ui.common import PageContext, classifier, dataframe, plain, show_errors
from ui.i18n import t
from ui.queue_panel import shorten

EVIDENCE = "annotate.evidence"
SOURCE_WORDS = {"gold": "gold label", "expert": "expert's label", "imported": "imported label"}


def card_evidence(ctx: PageContext, db, record: dict, serving_model):
    """The evidence for the record on the card (``core.work.evidence.card_evidence``), kept for this
    session until a label changes; None where no installed model has a sentence encoder."""
    kept = st.session_state.setdefault(EVIDENCE, {})
    key = (record["id"], str(serving_model.folder) if serving_model else "", ctx.tax.id, db.labels_quick_stamp())
    if key not in kept:
        if len(kept) > 200:
            kept.clear()
        kept[key] = None
        with show_errors():
            kept[key] = evidence_for(db, ctx.tax, ctx.models, serving_model, record, classifier)
    return kept[key]


def evidence_line(ev, code: str, tax) -> str:
    """A suggestion's share of the evidence: "7 of 10 nearest" ("" where there is none)."""
    if ev is None or not ev.neighbours:
        return ""
    return t("{0} of {1} nearest").format(ev.carrying(code, tax), len(ev.neighbours))


def evidence_panel(ctx: PageContext, db, ev, actions) -> None:
    """What the nearest labelled records carry, and the records themselves (a click opens one)."""
    tax, lang = ctx.tax, ctx.lang
    if ev is None:
        return
    if ev.unread:
        st.caption(t("The nearest labelled records show once the background fill has read this record."))
        return
    if not ev.neighbours:
        st.caption(t("No labelled record has a kept vector yet: the nearest labelled records show once the "
                     "background fill has read them ({0:,} waiting).").format(ev.waiting))
        return
    counts = ev.code_counts(tax)
    st.caption(t("**Nearest labelled records:**") + " " + " · ".join(
        f"{n} × {plain(tax.label(c, lang) if c in tax else c)}" for c, n in counts[:4])
        + (" …" if len(counts) > 4 else ""))
    with st.expander(t("The {0} labelled records most like this one").format(len(ev.neighbours))):
        records = {r["id"]: r for r in db.records_by_ids([n.record_id for n in ev.neighbours])}
        rows = []
        for n in ev.neighbours:
            r = records.get(n.record_id) or {}
            rows.append({"similarity": round(n.similarity, 3),
                         "codes": ", ".join(tax.label(c, lang) if c in tax else c for c in n.codes),
                         "label": t(SOURCE_WORDS[n.source]), "id": r.get("external_id", ""),
                         "text": shorten(r.get("title") or r.get("abstract") or "", 140)})
        dataframe(rows, hide_index=True, width="stretch", key="annotate.evidence_table", column_config={
            "similarity": st.column_config.NumberColumn("similarity", format="%.2f", width="small"),
            "codes": st.column_config.TextColumn("codes", width="medium"),
            "label": st.column_config.TextColumn("label", width="small"),
            "id": st.column_config.TextColumn("id", width="small"),
            "text": st.column_config.TextColumn("text", width="large")})
        pick, go = st.columns([4, 1], vertical_alignment="bottom")
        names = {f"{records.get(n.record_id, {}).get('external_id', n.record_id)} · "
                 f"{shorten((records.get(n.record_id) or {}).get('title') or '', 60)}": n.record_id
                 for n in ev.neighbours}
        chosen = pick.selectbox(t("Open one of them on the card"), list(names), key="annotate.evidence_pick")
        go.button(t("Open"), key="annotate.evidence_open", on_click=actions.open_record, args=(names.get(chosen),),
                  disabled=chosen is None)
        st.caption(t("Found with {0} among {1:,} labelled records{2}.").format(
            plain(ev.encoder), ev.indexed, t(" ({0:,} more wait for their vectors)").format(ev.waiting)
            if ev.waiting else ""))
