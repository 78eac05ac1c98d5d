"""Team: the labelling rounds and each annotator's figures (a lead's page): progress, speed,
agreement, accuracy on known-answer records, and "accepted without reading" flags on evidence."""

import streamlit as st

from core.work.team import annotator_quality, review_queue, round_progress
from ui.common import dataframe, may, not_allowed, page_context, plain
from ui.i18n import t


@st.cache_data(max_entries=8, show_spinner=False)
def team_figures(db_path: str, taxonomy_id: str, taxonomy_key: str, last_event: int, user: str, role: str):  # noqa: ARG001 - cache keys
    """Per-annotator figures and the number of records to resolve, computed again only when a
    label changed (seconds with a hundred thousand labels)."""
    from core.store import Store

    with Store(db_path).act_as(user, role) as db:
        taxonomy = db.load_taxonomy(taxonomy_id)
        return annotator_quality(db, taxonomy), len(review_queue(db, taxonomy))

with page_context() as ctx:
    db, tax = ctx.db, ctx.tax
    st.title(t("Team"))
    st.caption(t("{0}: labelling rounds, agreement and each annotator's work.").format(plain(t(tax.name))))
    if not may("view_team"):
        not_allowed("view_team")
        st.stop()

    st.subheader(t("Labelling rounds"))
    rounds = db.rounds(tax.id)
    if not rounds:
        st.info(t("No round yet: on the Annotate page, open a queue and assign it as a labelling round."))
    else:
        chosen = st.selectbox(t("Round"), [r["id"] for r in rounds], key="team.round", format_func=lambda i: next(
            f"#{r['id']} · {r['created_at'][:16].replace('T', ' ')} · {r['records']:,} records · "
            f"{r['overlap']:.0%} coded twice · {r['gold_rate']:.0%} known-answer" for r in rounds if r["id"] == i))
        progress = round_progress(db, int(chosen))
        dataframe(progress, hide_index=True, width="stretch", key="team.progress",
                     column_config={"done": st.column_config.ProgressColumn(t("done"), min_value=0.0, max_value=1.0,
                                                                           format="percent")})

    st.subheader(t("Annotators"))
    last = db.last_event_id()
    quality, to_resolve = team_figures(str(db.path), tax.id, db.taxonomy_version_key(tax.id), last,
                                       ctx.state.user, ctx.state.role)
    if quality.empty:
        st.info(t("No expert has labelled a record of this taxonomy yet."))
    else:
        flagged = quality[quality["flagged"]]
        for row in flagged.itertuples():
            st.warning(t("{0} may be accepting suggestions without reading them: {1}.").format(plain(row.annotator),
                                                                                               plain(row.why)))
        dataframe(quality, hide_index=True, width="stretch", key="team.quality", column_config={
            "records_per_hour": st.column_config.NumberColumn(t("records / hour"), format="%.0f"),
            "seconds_per_record": st.column_config.NumberColumn(t("s / record"), format="%.1f"),
            "agreement": st.column_config.NumberColumn(t("agreement"), format="percent"),
            "shared_records": st.column_config.NumberColumn(t("records coded twice")),
            "gold_items": st.column_config.NumberColumn(t("known-answer records")),
            "gold_accuracy": st.column_config.NumberColumn(t("known-answer accuracy"), format="percent"),
            "accept_top": st.column_config.NumberColumn(t("top suggestion accepted"), format="percent"),
            "overturned": st.column_config.NumberColumn(t("overturned in review"), format="percent")})
        st.caption(t("A flag needs evidence, never speed alone: faster than the team's median, the top suggestion "
                     "accepted at least 80 % of the time, and either under 60 % right on at least 5 known-answer "
                     "records or at least 40 % of at least 5 reviewed labels overturned. Working time leaves out "
                     "pauses over ten minutes."))

    st.subheader(t("To resolve"))
    st.caption(t("{0:,} records where the experts disagree and no gold label exists: open the queue "
                 "'Disagreements to resolve' on the Annotate page.").format(to_resolve))
