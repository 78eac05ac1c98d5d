"""The learning loop's widgets: the retrain hint, training jobs, the versions table, side-by-side
comparison, promote / roll back / delete (a lead's actions)."""

from __future__ import annotations

import streamlit as st

from core.jobs.training import (
    AUTO_SETTING,
    cancel_training,
    create_training_job,
    epoch_progress,
    get_training_job,
    launch_training,
    resume_training,
    training_jobs,
)
from core.models import kinds
from core.work.learning import MIN_TRAINING, TrainOptions
from core.work.one_click import HU_FINETUNED, HU_RECIPE, finetuned_for, one_click
from core.work.verdicts import figure_line, verdict_line
from core.work.versions import (
    compare_table,
    corrections_since,
    current_figures,
    delete_version,
    list_versions,
    promote,
    promotion_check,
    rollback,
    versions_table,
)
from ui.common import PageContext, dataframe, may, not_allowed, open_store, plain, show_errors
from ui.i18n import t


def is_lead() -> bool:
    """Training, promoting and rolling back are a lead's (or an administrator's) actions."""
    return may("train")


def retrain_hint(ctx: PageContext, key: str) -> None:
    """"N new corrections since vK was trained; retrain?" (or, before any version, "N labelled
    records; train?") with a button for a lead that trains the one-click recipe and says what it
    uses."""
    if ctx.tax is None:
        return
    count, name = corrections_since(ctx.db, ctx.tax.id, ctx.cfg.models_dir)
    chosen = None
    if count == 0 and not name:  # nothing trained here yet: imported codes alone are worth a first version
        chosen = one_click(ctx.db, ctx.tax)
        if chosen.records < MIN_TRAINING:
            return
    elif count == 0:
        return
    chosen = chosen or one_click(ctx.db, ctx.tax)
    c1, c2 = st.columns([4, 1])
    if count:
        since = t("since {0} was trained").format(plain(name)) if name else t("and no version was trained on them")
        c1.caption(t("{0:,} new expert correction(s) in {1} {2}; retrain?").format(
            count, plain(t(ctx.tax.name)), since))
    else:
        c1.caption(t("{0:,} labelled records in {1} and no version trained on them yet; train one?").format(
            chosen.records, plain(t(ctx.tax.name))))
    c1.caption(t("Retrain trains {0} on {1}.").format(t(chosen.recipe), plain(chosen.used(t))))
    if is_lead() and c2.button(t("Retrain"), key=f"{key}.retrain", help=t(
            "Train a new version in the background and evaluate it on the evaluation set: {0} ({1}), on {2}").format(
            t(chosen.recipe), chosen.why(t), chosen.used(t))):
        start_training(ctx, chosen.options)


def start_training(ctx: PageContext, options: TrainOptions) -> None:
    with show_errors():
        job_id = create_training_job(ctx.db, ctx.tax.id, options, ctx.cfg.models_dir, ctx.state.user or "lead")
        launch_training(ctx.db.path, job_id)
        st.toast(t("Training job #{0} started: it runs in the background at a lower priority.").format(
            get_training_job(ctx.db, job_id).number))


def fast_twin(ctx: PageContext) -> None:
    """The one-click recipe's fast twin (a head on static vectors, no transformer at run time), where
    the recipe reads the multilingual encoder: what a bulk job in the fast tier sends that language to."""
    if ctx.tax is None:
        return
    chosen, twin = one_click(ctx.db, ctx.tax), one_click(ctx.db, ctx.tax, fast=True)
    if chosen.records < MIN_TRAINING or twin.options == chosen.options:
        return  # TF-IDF alone is the fast tier already
    c1, c2 = st.columns([4, 1])
    c1.caption(t("For bulk jobs in the fast tier: {0}, on {1}. It keeps about 87 % of the one-click recipe's "
                 "weighted F1 on Hungarian speeches and reads hundreds of records a second; the first one "
                 "distils the encoder's static vectors (about 5 minutes).").format(t(twin.recipe), plain(twin.used(t))))
    if is_lead() and c2.button(t("Train the fast twin"), key="versions.fast_twin"):
        start_training(ctx, twin.options)


def finetuned_offer(ctx: PageContext) -> None:
    """The fine-tuned mix, an alternative to the one-click recipe where it was measured (long texts
    in other languages, up to 1,000 labels): slower, and no better on the speeches it was measured
    on, so the page says so and leaves the choice to the two versions' evaluation-set verdicts."""
    if ctx.tax is None:
        return
    tuned = finetuned_for(ctx.db, ctx.tax)
    if tuned is None:
        return
    c1, c2 = st.columns([4, 1])
    c1.caption(t("Also possible, and slower: {0}, on {1}; about {2:.0f} minutes here. On Hungarian speeches it "
                 "read {3:.3f} against the Retrain's {4:.3f} (5-fold weighted F1): train both and compare their "
                 "verdicts on the evaluation set.").format(
        t(tuned.recipe), plain(tuned.used(t)), max(1.0, tuned.minutes), HU_FINETUNED, HU_RECIPE))
    if is_lead() and c2.button(t("Fine-tune the multilingual encoder"), key="versions.finetuned"):
        start_training(ctx, tuned.options)


def train_form(ctx: PageContext) -> None:
    fast_twin(ctx)
    finetuned_offer(ctx)
    st.markdown(t("**Train a new version** from this workspace's expert labels (the evaluation set is never "
                "trained on)"))
    c1, c2, c3, c4 = st.columns(4)
    kind_name = c1.selectbox(t("Kind"), list(kinds.names()), format_func=lambda k: f"{k}: {t(kinds.get(k).help)}",
                             key="versions.kind")
    imported = c2.checkbox(t("Include imported labels"), key="versions.imported")
    machine = c3.checkbox(t("Include machine-accepted labels"), key="versions.machine")
    language = c4.text_input(t("Only language (ISO code)"), key="versions.language", max_chars=8)
    kind = kinds.get(kind_name)
    changes = recipe_form(ctx, kind)
    left_out = st.number_input(
        t("Leave out labels that look wrong (share of the labels, 0: none)"), 0.0, 0.5, 0.0, step=0.01,
        key="versions.leave_out", disabled=not imported,
        help=t("The worst-ranked of the labels that look wrong and that no one has reviewed yet (imported codes "
               "only), at most this share of the labels. Leaving out every flagged label costs more than it gains; "
               "reviewing them in Annotate is better."))
    workers, ray = placement_form(kind, changes)
    lead = is_lead()
    if st.button(t("Train"), key="versions.train", type="primary", disabled=not lead,
                 help=None if lead else "Training, promoting and rolling back are a team lead's actions"):
        start_training(ctx, TrainOptions(kind_name, imported, machine, language.strip().lower(), params=changes,
                                         leave_out_flagged=float(left_out) if imported else 0.0, workers=workers,
                                         ray=ray))
    auto = dict(ctx.db.setting(AUTO_SETTING, {}) or {})
    every = st.number_input(t("Retrain automatically every N new corrections (0: never)"), 0, 100_000,
                            int(auto.get(ctx.tax.id, 0)), step=50, key="versions.auto", disabled=not lead)
    if lead and int(every) != int(auto.get(ctx.tax.id, 0)):
        ctx.db.set_setting(AUTO_SETTING, {**auto, ctx.tax.id: int(every)})
    if not lead:
        not_allowed("train")


def placement_form(kind, changes: dict) -> tuple[int, str]:
    """Where a recipe that can run elsewhere trains (``core.models.kinds.Placement``): data-parallel
    workers and a Ray cluster; (1, "") for the others."""
    if not kind.can_place({**kind.defaults, **changes}):
        return 1, ""
    with st.expander(t("Where it trains (workers, Ray cluster)")):
        c1, c2 = st.columns([1, 3])
        workers = c1.number_input(t("Workers"), 1, 256, 1, key="versions.placement.workers",
                                  help=t("data-parallel training processes (Ray Train); 1 trains here"))
        ray = c2.text_input(t("Ray cluster address"), key="versions.placement.ray", max_chars=500,
                            help=t("a running Ray cluster (ray://host:10001 or host:6379) to train on; empty: a "
                                   "local one when workers > 1"))
    return int(workers), ray.strip()


def recipe_form(ctx: PageContext, kind) -> dict:
    """The kind's settings (its fields: the main ones in a row, the rest folded away), each with a
    line saying what it does; returns the changes from the kind's defaults."""
    changes = {}
    main = [f for f in kind.fields if not f.advanced]
    rest = [f for f in kind.fields if f.advanced]
    if main:
        for f, column in zip(main, st.columns(max(len(main), 4))):
            _field(ctx, kind, f, column, changes)
    if rest:
        with st.expander(t("More settings of {0}").format(kind.name)):
            for k in range(0, len(rest), 4):
                for f, column in zip(rest[k:k + 4], st.columns(4)):
                    _field(ctx, kind, f, column, changes)
    if kind.name == "ensemble":  # each member's own settings, as the command line's --set member.setting
        from core.models import kinds as all_kinds

        chosen = str(changes.get("members") or kind.defaults.get("members") or "")
        for member in [m for m in chosen.split("+") if m in all_kinds.names()]:
            member_kind = all_kinds.get(member)
            with st.expander(t("Settings of the {0} member").format(member)):
                for k in range(0, len(member_kind.fields), 4):
                    for f, column in zip(member_kind.fields[k:k + 4], st.columns(4)):
                        _field(ctx, member_kind, f, column, changes, prefix=f"{member}.")
    if any(f.type == "encoder" for f in kind.fields):
        add_encoder_form(ctx)
    return changes


def _field(ctx: PageContext, kind, f, column, changes: dict, prefix: str = "") -> None:
    key = f"versions.recipe.{'ensemble.' if prefix else ''}{kind.name}.{f.name}"
    label, help_ = t(f.label), t(f.help)
    if f.type == "bool":
        value = column.checkbox(label, value=bool(f.default), key=key, help=help_)
    elif f.type == "choice":
        value = column.selectbox(label, list(f.choices), index=list(f.choices).index(f.default), key=key, help=help_)
    elif f.type == "encoder":
        from core.models.tunable_encoders import available_encoders

        names = list(available_encoders(ctx.cfg.models_dir))
        value = column.selectbox(label, names, index=names.index(f.default) if f.default in names else 0, key=key,
                                 help=help_)
    elif f.type == "finetuned":
        from core.models.kinds.distil import finetuned_models

        names = finetuned_models(ctx.cfg.models_dir, ctx.tax.id)
        if not names:
            column.caption(t("No fine-tuned model of this taxonomy yet: train one with the finetune kind first."))
            return
        value = column.selectbox(label, names, key=key, help=help_)
    elif f.type == "text":
        value = column.text_input(label, value=str(f.default), key=key, help=help_, max_chars=500)
    elif f.type == "int":
        value = column.number_input(label, int(f.low), int(f.high), int(f.default), step=1, key=key, help=help_)
    else:
        value = column.number_input(label, float(f.low), float(f.high), float(f.default), key=key, help=help_,
                                    format="%g")
    if value != f.default:
        changes[prefix + f.name] = value


def add_encoder_form(ctx: PageContext) -> None:
    """A lead adds a transformers encoder folder on this machine (SciBERT, XLM-RoBERTa, huBERT...):
    checked (config, tokenizer, safetensors weights; no remote code), then copied into the models
    folder. Nothing is fetched from a hub."""
    from core.models.tunable_encoders import add_encoder

    with st.expander(t("Add an encoder to fine-tune from")):
        st.caption(t("A folder on this computer with config.json, tokenizer files and model.safetensors (for "
                     "example a SciBERT, XLM-RoBERTa or huBERT download). It is checked and copied into the "
                     "models folder; nothing is downloaded."))
        c1, c2, c3 = st.columns([3, 2, 1])
        path = c1.text_input(t("Encoder folder"), key="versions.encoder_path", max_chars=1000)
        name = c2.text_input(t("Name (empty: the folder's name)"), key="versions.encoder_name", max_chars=80)
        if c3.button(t("Add"), key="versions.encoder_add", disabled=not is_lead() or not path.strip()):
            with show_errors():
                added = add_encoder(ctx.cfg.models_dir, path.strip(), name)
                st.success(t("Encoder {0} added.").format(plain(added.name)))


def jobs_panel(db, taxonomy_id: str) -> None:
    """The taxonomy's recent training jobs; redrawn every 2 s only while one is unfinished."""
    jobs = [j for j in training_jobs(db, limit=5) if j.taxonomy_id == taxonomy_id]
    if any(not j.finished for j in jobs):
        _live_jobs(taxonomy_id)
    else:
        _show_jobs(db, jobs)


@st.fragment(run_every=2.0)
def _live_jobs(taxonomy_id: str) -> None:
    with open_store() as db:
        jobs = [j for j in training_jobs(db, limit=5) if j.taxonomy_id == taxonomy_id]
        _show_jobs(db, jobs)
        if all(j.finished for j in jobs):
            st.rerun()  # the whole page: the new version appears in the table


def _show_jobs(db, jobs) -> None:
    for job in jobs:
        label = t("Training #{0} · {1} · {2}").format(job.number, job.options.kind, t(job.status))
        if job.status in ("running", "queued", "cancelling"):
            eta = t(" · about {0:,.0f} s left").format(job.eta_seconds) if job.eta_seconds else ""
            c1, c2 = st.columns([5, 1])
            c1.progress(min(job.fraction, 1.0), text=f"{label} · {plain(job.stage)}{eta}")
            if c2.button(t("Cancel"), key=f"versions.cancel.{job.id}", disabled=not may("train")):
                with show_errors():
                    cancel_training(db, job.id)
            saved = epoch_progress(job.models_dir, job.id) if job.models_dir else None
            if saved:
                curve_chart(saved["curve"], saved.get("best_epoch"), key=f"versions.curve.{job.id}")
        elif job.status == "done":
            st.caption(f"{label}: {plain(job.result.get('folder', ''))} in {job.result.get('seconds', 0):.0f} s · "
                       + plain(result_line(job.result)))
        else:
            c1, c2 = st.columns([5, 1])
            c1.caption(f"{label}" + (f": {plain(job.error)}" if job.error else ""))
            if job.resumable:
                done = int(job.checkpoint.get("epoch") or 0)
                if c2.button(t("Resume from epoch {0}").format(done), key=f"versions.resume.{job.id}",
                             help=t("Go on from the last completed epoch's checkpoint"), disabled=not may("train")):
                    with show_errors():
                        resume_training(db, job.id)
                        st.rerun()


def curve_chart(curve: list[dict], best_epoch: int | None, key: str) -> None:
    """Training loss and validation macro F1 per epoch, each on its own axis (a loss near 3 and an
    F1 near 0.05 on one axis make F1 a flat line), the kept epoch marked; epoch 0 is the linear probe
    a head may start from."""
    import altair as alt
    import pandas as pd

    frame = pd.DataFrame([{"epoch": e["epoch"], "loss": e.get("train_loss"), "f1": e.get("val_macro_f1")}
                          for e in curve or []])
    if frame.empty:
        return
    charts = []
    for column, title in (("loss", t("training loss")), ("f1", t("validation macro F1"))):
        part = frame.dropna(subset=[column])
        if part.empty:
            continue
        chart = alt.Chart(part).mark_line(point=True).encode(
            x=alt.X("epoch:O", title=t("epoch")), y=alt.Y(f"{column}:Q", title=title, scale=alt.Scale(zero=False)),
            tooltip=["epoch", alt.Tooltip(f"{column}:Q", title=title, format=".3f")])
        if best_epoch is not None and best_epoch in set(part["epoch"]):
            chart = chart + alt.Chart(pd.DataFrame({"epoch": [best_epoch]})).mark_rule(strokeDash=[4, 3]).encode(
                x="epoch:O")
        charts.append(chart.properties(height=160, width=260))
    st.altair_chart(alt.hconcat(*charts), key=key)
    if best_epoch is not None and best_epoch in set(frame["epoch"]) and frame["f1"].notna().any():
        st.caption(t("The linear probe (epoch 0) is the one kept (best validation F1).") if best_epoch == 0 else
                   t("Epoch {0} is the one kept (best validation F1).").format(best_epoch))


def result_line(result: dict) -> str:
    """A finished training job's figures, the one to read first first (cross-validated while the
    evaluation set is small), and the verdict naming its baseline and records."""
    from core.work.verdicts import report_lines

    return " · ".join(p for p in report_lines(result.get("eval_figures"), result.get("cross_validated"),
                                               result.get("verdict"), tr=t) if p)


def versions_section(ctx: PageContext) -> None:
    db, tax, cfg = ctx.db, ctx.tax, ctx.cfg
    st.subheader(t("Model versions · {0}").format(t(tax.name)))
    retrain_hint(ctx, "versions")
    train_form(ctx)
    jobs_panel(db, tax.id)
    versions = list_versions(db, tax.id, cfg.models_dir)
    if not versions:
        st.caption(t("No version trained in this workspace yet."))
        return
    records, now = current_figures(db, tax, versions, cfg.models_dir, compute=False)
    missing = [f for f, v in now.items() if v is None]
    if missing and st.button(t("Evaluate {0} version(s) on today's evaluation set ({1:,} records)").format(
            len(missing), records),
                             key="versions.reevaluate",
                             help=t("Versions trained when the evaluation set was smaller are compared on today's "
                                  "records; figures are kept until the set grows again.")):
        with show_errors(), st.spinner(t("Evaluating…")):
            records, now = current_figures(db, tax, versions, cfg.models_dir)
    dataframe([{t(k): v for k, v in row.items()} for row in versions_table(versions, now)], hide_index=True,
                 width="stretch", key="versions.table")
    st.caption(t("“today”: on the {0:,} records of today's evaluation set; “when trained”: on the evaluation set as "
                 "it was when the version was trained.").format(records))
    curved = [v for v in versions if v.params.get("curve")]
    if curved:
        shown = st.selectbox(t("Training curve"), curved, format_func=lambda v: f"v{v.number} {v.folder}",
                             key="versions.curve_choice")
        if shown is not None:
            curve_chart(shown.params["curve"], shown.params.get("best_epoch"), key="versions.curve")
    names = [m.folder.name for m in ctx.models]
    default = list(dict.fromkeys([*names[:1], *(v.folder for v in versions[:1] if v.folder in names)]))
    picked = st.multiselect(t("Compare per category on the evaluation set"), names, default=default,
                            key="versions.compare")
    if picked:
        with show_errors():
            table = compare_table(db, tax, [cfg.models_dir / p for p in picked], ctx.lang)
            table["evidence"] = table["evidence"].map(lambda x: t(x) if x else x)
            dataframe(table.rename(columns={c: t(c) for c in table.columns}), hide_index=True,
                         width="stretch", key="versions.compare_table")
    lead = is_lead()
    c1, c2, c3 = st.columns(3)
    target = c1.selectbox(t("Model"), names, key="versions.target")
    language = c2.text_input(t("For language (empty: all)"), key="versions.promote_language", max_chars=8)
    accept = c3.checkbox(t("Promote even where categories drop"), key="versions.accept_drops")
    b1, b2, b3 = st.columns(3)
    if target:
        with show_errors(), st.spinner(t("Evaluating…")):
            check = promotion_check(db, tax, target, cfg.models_dir, language=language.strip().lower())
            if check["verdict"]:
                st.caption(t("Against the model in use ({0}): ").format(plain(check["current"]))
                           + plain(verdict_line(check["verdict"], tr=t)))
            st.caption(plain(target) + ": " + plain(figure_line(check["after"], tr=t)))
    if b1.button(t("Promote"), key="versions.promote", disabled=not lead or not target):
        with show_errors():
            flagged = promote(db, tax, target, cfg.models_dir, ctx.state.user or "lead",
                              language=language.strip().lower(), accept_drops=accept)
            if flagged and not accept:
                st.warning("Not promoted: F1 drops by more than noise (paired bootstrap, 95 %) in " + "; ".join(
                    f"{plain(f['name'])} {f['f1_before']:.2f} → {f['f1_after']:.2f}" for f in flagged))
            else:
                st.session_state.pop("annotate.model", None)
                st.success(f"{plain(target)} is the model in use for {plain(t(tax.name))}"
                           + (f" ({plain(language)})" if language.strip() else ""))
    if b2.button(t("Roll back"), key="versions.rollback", disabled=not lead):
        with show_errors():
            back = rollback(db, tax.id, cfg.models_dir, ctx.state.user or "lead", language=language.strip().lower())
            st.session_state.pop("annotate.model", None)
            st.success(t("Back to {0}").format(plain(back) if back else 'the default model'))
    deletable = [v for v in versions if not v.promoted_for]
    with b3.popover(t("Delete a version"), disabled=not lead or not deletable):
        doomed = st.selectbox(t("Version"), deletable, format_func=lambda v: f"v{v.number} {v.folder} "
                              f"({v.size_mb:.0f} MB)", key="versions.delete_choice")
        if st.button(t("Delete its folder"), key="versions.delete") and doomed is not None:
            with show_errors():
                delete_version(db, doomed.id, cfg.models_dir, ctx.state.user or "lead")
                st.rerun()
