"""What the Annotate card's buttons and keys do (accept, choose, reject, skip, undo, move, note,
resolve into gold), each through the core's ``Annotator`` as the person at work, and the message
each action leaves on the next card."""


import streamlit as st

from core.errors import WorkbenchError
from core.work.annotation import AnnotationError, Annotator
from core.work.team import adjudicate
from ui.common import (
    PageContext,
    open_store,
    save_queue,
)
from ui.i18n import t
from ui.queue_panel import PENDING

FLASH = "annotate.flash"
PARTLY = "annotate.partly"  # the shown codes marked "relevant, not the best" for the next label

ACTION_WORDS = {"accept": "Saved (suggestion accepted)", "correct": "Saved",
                "reject": "Saved: none of the suggestions fits", "skip": "Skipped", "undo": "Undone",
                "note": "Note saved"}


def action_message(event, tax, lang: str, external_id: str) -> str:
    """What a toast says after an action: what was saved on which record, never a verdict on it
    ("Correct: 4" read as "that was right")."""
    codes = ", ".join(tax.label(c, lang) if c in tax else c for c in event.codes)
    partly = [s.code for s in event.shown if s.verdict == "partly"]
    return (t(ACTION_WORDS.get(event.action, event.action.capitalize())) + (f": {codes}" if codes else "")
            + (" · " + t("relevant, not the best: {0}").format(", ".join(partly)) if partly else "")
            + " · " + t("record {0}").format(external_id))


def flash(kind: str, text: str) -> None:
    st.session_state[FLASH] = (kind, text)


class CardActions:
    """What the card's buttons and keys do. Callbacks run at the start of the next rerun, after this
    run's store is closed: each opens its own. They act on the record and suggestions that were on
    screen when the key was pressed."""

    def __init__(self, ctx: PageContext, queue, record: dict, shown: list):
        self.ctx, self.queue, self.record, self.shown = ctx, queue, record, shown

    def act(self, fn, *args, move: bool = True, on_record: int | None = None) -> None:
        queue, state, tax = self.queue, self.ctx.state, self.ctx.tax
        # A key pressed while the page was still drawing the next record reaches the callback of the
        # record before; it must not act on that record again.
        if on_record is not None and queue.current != on_record:
            flash("warning", "The page was still loading the next record: nothing was recorded. Press the key again.")
            return
        with open_store() as s:
            try:
                annotator = Annotator(s, state.user, state.role, tax, models_dir=self.ctx.cfg.models_dir)
                event = fn(annotator, *args)
            except AnnotationError as exc:
                flash("error", f"{exc.prefix}: {exc.message}")
                return
            if annotator.retraining:
                from core.jobs.training import get_training_job

                st.toast(t("Corrections reached the lead's \"retrain every N\": automatic training job #{0} "
                           "started.").format(get_training_job(s, annotator.retraining).number))
            st.session_state[PENDING] = []
            st.session_state[PARTLY] = {}
            st.session_state["annotate.reason"] = ""
            if event.action == "undo":
                queue.bring(event.record_id)  # back where the person is (a skip had sent it to the end)
            elif move:
                queue.next_open(s, state.user)
            flash("success" if event.action != "undo" else "info",
                  action_message(event, tax, self.ctx.lang, s.record(event.record_id)["external_id"]))
        save_queue(tax.id)

    @staticmethod
    def reason() -> str:
        return st.session_state.get("annotate.reason", "")

    def partly(self) -> list[str]:
        """The codes marked on the record on screen (a mark never travels to another record)."""
        marked = st.session_state.get(PARTLY) or {}
        return list(marked.get("codes", [])) if marked.get("record") == self.record["id"] else []

    def accept(self, i: int) -> None:
        rid, shown = self.record["id"], self.shown
        if i < len(shown):
            self.act(lambda a: a.accept(rid, shown[i], shown, self.reason(), self.partly()), on_record=rid)

    def choose(self, codes: list[str]) -> None:
        rid = self.record["id"]
        self.act(lambda a: a.correct(rid, codes, self.shown, self.reason(), self.partly()), on_record=rid)

    def reject(self) -> None:
        rid = self.record["id"]
        self.act(lambda a: a.reject(rid, self.shown, self.reason(), self.partly()), on_record=rid)

    def toggle_partly(self, i: int) -> None:
        """Mark (or unmark) the i-th suggestion "relevant, but not the best": the mark goes with the
        next label saved on this record, as the expert's verdict on that suggestion."""
        if i < len(self.shown):
            marked, code = self.partly(), self.shown[i].code
            marked.remove(code) if code in marked else marked.append(code)
            st.session_state[PARTLY] = {"record": self.record["id"], "codes": marked}

    def skip(self) -> None:
        rid = self.record["id"]
        self.act(lambda a: a.skip(rid, self.shown, self.reason()), on_record=rid)
        if self.queue.current != rid:  # skipped: it waits at the end of the queue
            self.queue.defer(rid)
            save_queue(self.ctx.tax.id)

    def undo(self) -> None:
        self.act(lambda a: a.undo())

    def add_note(self) -> None:
        rid = self.record["id"]
        self.act(lambda a: a.note(rid, st.session_state.get("annotate.note", "")), move=False, on_record=rid)
        st.session_state["annotate.note"] = ""

    def move(self, step: int) -> None:
        before = self.queue.position
        self.queue.move(step)
        st.session_state[PENDING] = []
        st.session_state[PARTLY] = {}
        if self.queue.position == before:  # the first or the last record: say so instead of doing nothing
            flash("info", t("This is the last record of the queue.") if step > 0 else
                  t("This is the first record of the queue."))
        save_queue(self.ctx.tax.id)

    def open_record(self, record_id: int) -> None:
        """Bring another record (one of the evidence's) onto the card, at the cursor: the record on
        screen follows it."""
        self.queue.bring(int(record_id))
        st.session_state[PENDING] = []
        st.session_state[PARTLY] = {}
        save_queue(self.ctx.tax.id)

    def resolve(self, codes: list[str]) -> None:
        """A lead resolves the record into its gold label, then the next record."""
        state, tax = self.ctx.state, self.ctx.tax
        if self.queue.current != self.record["id"]:
            flash("warning", "The page was still loading the next record: nothing was recorded. Press again.")
            return
        with open_store() as s:
            try:
                adjudicate(s, tax, self.record["id"], codes, by=state.user, role=state.role, reason=self.reason())
            except WorkbenchError as exc:
                flash("error", f"{exc.prefix}: {exc.message}")
                return
        st.session_state["annotate.reason"] = ""
        flash("success", f"Gold label: {', '.join(codes)}")
        self.queue.move(1)
        save_queue(tax.id)

    @staticmethod
    def toggle_pending(code: str) -> None:
        pending = st.session_state.setdefault(PENDING, [])
        if code in pending:
            pending.remove(code)
        else:
            pending.append(code)
