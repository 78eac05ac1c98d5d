"""The Annotate page's queue panel: what to work on (model, queue, filters), a double-coded
round for a lead, finding one record, and opening the queue (scoring what is unscored first when
that is quick)."""


import streamlit as st

from core.domain.labels import QueueSpec
from core.models.limits import normal_limit
from core.work.annotation import Queue, found_records_queue
from core.work.embeddings import INLINE_SECONDS
from core.work.team import review_queue, start_round
from ui.common import (
    PageContext,
    keep,
    kept,
    may,
    open_queue,
    plain,
    show_error,
    show_errors,
)
from ui.i18n import t, translated
from ui.widgets import run_scoring, score_unscored, scoring_time

PENDING = "annotate.pending"

def current_queue(tax) -> Queue | None:
    queue = open_queue(tax.id)
    return queue if queue is not None and queue.spec.taxonomy_id == tax.id else None

def shorten(text: str, n: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 1] + "…"


QUEUES = {
    "uncertain": "Least confident first (margin)",
    "entropy": "Least confident first (entropy)",
    "predicted": "By predicted category",
    "batch": "By import batch",
    "language": "By language",
    "assigned": "Assigned to me",
    "review": "Review labelled records",
    "disputes": "Disagreements to resolve (leads)",
    "suspect": "Labels that look wrong",
}


def queue_spec(ctx: PageContext, model, kind: str) -> QueueSpec | None:
    """The queue's filters, chosen below the model and kind."""
    db, tax, lang = ctx.db, ctx.tax, ctx.lang
    args = {"taxonomy_id": tax.id, "order": "entropy" if kind == "entropy" else ("diverse" if model else "import")}
    if model is not None:
        args.update(model_name=model.manifest.name, model_version=model.manifest.version)
    if kind == "predicted":
        counts = db.prediction_counts(model.manifest.name, model.manifest.version) if model else {}
        rolled = tax.subtree_counts(counts)
        options = [n.code for n in tax if n.code in rolled]
        kept("annotate.filter_code", tax.id, options)
        chosen = st.selectbox(t("Predicted category (with everything below it)"), options or ["(nothing scored yet)"],
                              format_func=lambda c: f"{tax.label(c, lang)} ({rolled.get(c, 0)})"
                              if c in tax else c, key="annotate.filter_code", on_change=keep,
                              args=("annotate.filter_code", tax.id))
        if chosen in tax:
            args["predicted_codes"] = tuple(c for c in [chosen, *tax.descendants(chosen)] if c in counts)
    elif kind == "batch":
        batches = {b.id: b for b in db.list_batches(tax.id) if b.rows_imported}  # not imports of codes only
        if not batches:
            st.info(t("No import holds records for {0} yet: import a file on the Import page, or send a bulk job's "
                      "rows to this taxonomy on the Bulk classify page.").format(plain(t(tax.name))))
            return None
        kept("annotate.batch", tax.id, list(batches))
        args["batch_id"] = st.selectbox(t("Import batch"), list(batches), key="annotate.batch", on_change=keep,
                                        args=("annotate.batch", tax.id),
                                        format_func=lambda i: f"#{i} {batches[i].file_name} "
                                                              + t("({0:,} records)").format(batches[i].rows_imported))
    elif kind in ("language", "review"):
        options = db.languages() or [""]
        if kind == "review":
            options = ["", *[x for x in options if x]]
        kept("annotate.language", tax.id, options)
        args["language"] = st.selectbox(t("Language"), options, key="annotate.language", on_change=keep,
                                        args=("annotate.language", tax.id),
                                        format_func=lambda x: x or t("all languages"))
    if kind in ("batch", "language"):  # an imported label is to be confirmed or corrected, not done
        kept("annotate.unconfirmed", tax.id)
        args["status"] = "unconfirmed" if st.checkbox(
            t("Only imported labels not yet confirmed"), key="annotate.unconfirmed", on_change=keep,
            args=("annotate.unconfirmed", tax.id),
            help=t("Records whose imported file gave them a label that no expert has confirmed or corrected yet. "
                   "Without this, the queue holds every record no expert has labelled, imported labels "
                   "included.")) else "open"
    elif kind == "assigned":
        args["assigned_to"] = ctx.state.user
        if not ctx.state.user:
            st.warning(t("Enter your name in the sidebar to see the records assigned to you."))
    elif kind in ("review", "disputes"):
        args.update(status="labelled", order="import")
    kept("annotate.within", tax.id, [n.code for n in tax], default=[])
    args["within"] = normal_limit(tax, st.multiselect(
        t("Suggest only within (nodes and everything below them)"), [n.code for n in tax], key="annotate.within",
        format_func=lambda c: tax.path_label(c, lang), on_change=keep, args=("annotate.within", tax.id),
        placeholder=t("the whole taxonomy"),
        help=t("Suggestions are scored within these parts of the tree (renormalised there), and the limit is kept "
               "with each suggestion you act on. The queue's records stay as chosen above.")))
    kept("annotate.search_records", tax.id)
    args["search"] = st.text_input(t("Only records containing (title, abstract or id)"), key="annotate.search_records",
                                   on_change=keep, args=("annotate.search_records", tax.id)).strip()
    try:
        return QueueSpec(**args)
    except ValueError as exc:
        show_error(plain(str(exc)))
        return None


def queue_panel(ctx: PageContext) -> None:
    db, tax = ctx.db, ctx.tax
    c1, c2, c3 = st.columns(3)
    names = ctx.model_names or ["(no model for this taxonomy)"]
    kept("annotate.model", tax.id, names)
    c1.selectbox(t("Model"), names, key="annotate.model", on_change=keep, args=("annotate.model", tax.id),
                 help=t("Orders the queue and makes the suggestions. Best held-out F1 first."))
    model = ctx.model(st.session_state["annotate.model"])
    seconds = [t("none"), *[n for n in ctx.model_names if model is None or n != model.manifest.name]]
    kept("annotate.model2", tax.id, seconds)
    c2.selectbox(t("Second model (side by side)"), seconds, key="annotate.model2", on_change=keep,
                 args=("annotate.model2", tax.id))
    kept("annotate.queue", tax.id, list(QUEUES))
    kind = c3.selectbox(t("Work on"), list(QUEUES), format_func=translated(QUEUES).get, key="annotate.queue",
                        on_change=keep,
                        args=("annotate.queue", tax.id))
    spec = queue_spec(ctx, model, kind)
    unscored = db.unscored_ids(spec) if spec is not None and model is not None and spec.needs_model else []
    score_unscored(db, model, tax, unscored, "matching records", "annotate.score",
                   note=t("Opening the queue scores them when that takes under {0} s; otherwise score them here or "
                          "as a bulk job.").format(f"{INLINE_SECONDS:.0f}"),
                   button=t("Score {0:,} records now").format(len(unscored)))
    if not ctx.state.user:
        st.warning(t("Enter your name in the sidebar (or on the Start page): a queue opens once the workbench knows "
                     "who is labelling, since every label records who made it."))
    if st.button(t("Open queue"), key="annotate.open", type="primary", disabled=spec is None or not ctx.state.user):
        with show_errors():
            if unscored and scoring_time(db, model, unscored) <= INLINE_SECONDS:
                run_scoring(db, model, tax, unscored)
            if kind == "disputes":  # most disagreement first (and, with a model, where it contradicts an expert)
                from core.store import now

                ids = review_queue(db, tax, model_name=model.manifest.name if model else "",
                                   model_version=model.manifest.version if model else "")["record_id"].tolist()
                open_queue(tax.id, Queue(spec, [int(i) for i in ids], len(ids), now(), work_on=kind))
            elif kind == "suspect":  # imported and expert labels that confident learning doubts, worst first
                from core.errors import WorkbenchError
                from core.work.label_quality import MIN_LABELS, MIN_PER_CODE, TOO_FEW, review_labels, suspect_queue

                with st.spinner(t("Predicting each label from a model that did not train on it…")):
                    review = review_labels(db, tax)
                if review.note:
                    raise WorkbenchError(t(TOO_FEW).format(MIN_LABELS, MIN_PER_CODE))
                open_queue(tax.id, suspect_queue(review, spec))
            else:
                built = Queue.build(db, spec)
                built.work_on = kind
                open_queue(tax.id, built)
            st.session_state[PENDING] = []
            st.rerun()
    find_record(ctx, model)
    if may("assign"):
        round_form(ctx)


def round_form(ctx: PageContext) -> None:
    """A lead assigns the open queue's records as a labelling round: to annotators, a share of them
    to two (blind), known-answer records mixed in."""
    db, tax = ctx.db, ctx.tax
    queue = current_queue(tax)
    with st.expander(t("Assign the open queue as a labelling round")):
        accounts = [u.username for u in db.users(include_disabled=False)]
        a1, a2 = st.columns([3, 1])
        if accounts:
            annotators = a1.multiselect(t("Annotators"), accounts, key="annotate.round_annotators")
        else:
            typed = a1.text_input(t("Annotators (names separated by commas)"), key="annotate.round_names")
            annotators = [n.strip() for n in typed.split(",") if n.strip()]
        how_many = a2.number_input(t("Records"), 1, 100_000, min(200, len(queue.ids)) if queue and queue.ids else 50,
                                   key="annotate.round_n")
        b1, b2, b3 = st.columns(3)
        overlap = b1.slider(t("Coded twice (blind)"), 0, 100, 10, 5, format="%d%%", key="annotate.round_overlap")
        gold_rate = b2.slider(t("Known-answer records mixed in"), 0, 30, 0, 5, format="%d%%", key="annotate.round_gold",
                              help=t("Records already resolved into gold labels; each annotator's accuracy on them "
                                     "is on the Team page."))
        suggestions = b3.checkbox(t("Show model suggestions on records coded twice"), True, key="annotate.round_sugg")
        if st.button(t("Start the round"), key="annotate.round_start", disabled=queue is None or not annotators):
            with show_errors():
                round_id, plan = start_round(db, tax, queue.ids[:int(how_many)], annotators, by=ctx.state.user,
                                             role=ctx.state.role, overlap=overlap / 100, gold_rate=gold_rate / 100,
                                             suggestions_on_double=suggestions, name=f"{tax.id} round")
                st.success(t("Round #{0}: {1:,} records for {2} annotators, {3:,} of them coded twice, {4:,} "
                             "known-answer records.").format(round_id, len({r for r, _, _ in plan.items}),
                                                             len(plan.load()), plan.double, plan.gold))


def find_record(ctx: PageContext, model) -> None:
    """Find a record by its id or its words (full text, accents and Hungarian endings forgiven)
    and open it on the card, with the other hits after it."""
    db, tax = ctx.db, ctx.tax
    with st.expander(t("Find a record by id or words")):
        text = st.text_input(t("Id or words"), key="annotate.find", placeholder=t("e.g. W2034 or oktatás")).strip()
        if not text:
            return
        hits = db.find_records(text, limit=20)
        if not hits:
            st.caption(t("No record matches."))
            return
        labelled = db.labelled_among(tax.id, [r["id"] for r in hits])
        names = {r["id"]: f"{plain(r['external_id'])} · {plain(shorten(r['title'] or r['abstract'] or '', 110))}"
                          + (" ✓" if r["id"] in labelled else "") for r in hits}
        chosen = st.radio(t("Found"), list(names), format_func=names.get, key="annotate.found",
                          label_visibility="collapsed")
        if st.button(t("Open this record"), key="annotate.open_found", disabled=not ctx.state.user):
            manifest = model.manifest if model is not None else None
            open_queue(tax.id, found_records_queue(db, tax.id, text, chosen,
                                                   model_name=manifest.name if manifest else "",
                                                   model_version=manifest.version if manifest else ""))
            st.session_state[PENDING] = []
            st.rerun()
