"""Models: installed classifiers, adding a model folder, trying a text."""

import streamlit as st

from core.errors import WorkbenchError
from core.models.registry import check_codes, discover, resolve_model_path
from core.models.scoring import suggest, unscorable_codes
from core.models.services import destination
from core.work.connectors import add_annif, add_llm, check_may_add_model
from ui.common import classifier, dataframe, may, not_allowed, page_context, plain, show_error, show_errors, taxonomy
from ui.i18n import t
from ui.learning import versions_section
from ui.widgets import backup_section

with page_context() as ctx:
    state, cfg, db = ctx.state, ctx.cfg, ctx.db
    st.title(t("Models"))
    st.caption(t("Model folders are read from {0}").format(cfg.models_dir))

    installed = discover(cfg.models_dir)
    usable = [m for m in installed if m.manifest is not None]
    if installed:
        rows = []
        for m in installed:
            if m.manifest is None:
                rows.append({"model": m.folder.name, "problem": m.error})
                continue
            held = m.manifest.evaluation.get("held_out", {})
            rows.append({
                "model": m.manifest.name, "version": m.manifest.version, "taxonomy": m.manifest.taxonomy,
                "runtime": m.manifest.runtime, "codes": len(m.manifest.codes),
                "languages": ", ".join(m.manifest.languages) or "not declared", "size MB": round(m.size_mb, 1),
                "held-out weighted F1": held.get("strict_weighted_f1"),
                "held-out macro F1": held.get("strict_macro_f1"),
                "texts go to": destination(m.manifest.service["url"]) if m.manifest.service.get("url")
                else "nowhere (runs here)",
                "problem": "",
            })
        dataframe(rows, hide_index=True, width="stretch", key="models.table")
    else:
        st.info(t("No model folders yet. The set-up builds the default models (scripts/build_models.py)."))

    if usable:
        with st.expander(t("What a model can and cannot suggest")):
            names = [m.manifest.name for m in usable]
            pick = usable[names.index(st.selectbox(t("Model"), names, key="models.detail_model"))]
            stored = {t.id for t in db.list_taxonomies()}
            manifest = pick.manifest
            st.write(t("**Languages:** {0} · **runtime:** {1} · **codes:** {2}").format(
                    ', '.join(manifest.languages) or t('not declared'), plain(manifest.runtime), len(manifest.codes)))
            if manifest.service.get("url"):
                st.write(t("**Record texts are sent to** {0}").format(plain(destination(manifest.service["url"]))))
                if not manifest.multi_label and not manifest.calibration:
                    st.warning(t("Not calibrated: its scores are not probabilities yet. Fit them on labelled "
                                 "records it did not train on (python -m core calibrate)."))
            tax = taxonomy(db, manifest.taxonomy) if manifest.taxonomy in stored else None
            if tax is not None:
                missing = unscorable_codes(manifest, tax)
                st.write(t("**Cannot suggest {0:,} of {1:,} nodes** of {2} (no training example, or deeper than its "
                           "codes); the hierarchy browser marks them as not scored.").format(
                                   len(missing), len(tax), plain(t(tax.name))))
                if missing:
                    dataframe([{"code": c, "level": tax.level(c), "path": tax.path_label(c, state.lang)}
                                  for c in missing], hide_index=True, width="stretch", key="models.missing",
                                 height=min(35 * len(missing) + 38, 300))
            per = (manifest.evaluation.get("held_out") or {}).get("per_category") or {}
            if per:
                st.write(t("**Held-out figures per category**"))
                dataframe([{"code": c, "name": tax.name_of(c, state.lang) if tax is not None and c in tax else c,
                               **f} for c, f in per.items()],
                             hide_index=True, width="stretch", key="models.per_category")
            elif manifest.evaluation.get("eval_set"):
                st.caption(t("A workspace version: its figures per category are on today's evaluation set below "
                           "(Compare per category)."))

    st.subheader(t("Try a text"))
    if usable:
        names = [m.manifest.name for m in usable]
        choice = st.selectbox(t("Model"), names, key="models.try_model")
        model = usable[names.index(choice)]
        text = st.text_area(t("Title, abstract or keywords"), key="models.text", height=120,
                            placeholder=t("e.g. The effect of minimum wages on youth unemployment"))
        c1, c2, c3 = st.columns(3)
        top_k = c1.slider(t("Suggestions"), 1, 10, 5, key="models.top_k")
        chunks = c3.checkbox(t("Read long texts in overlapping windows"), key="models.chunks",
                             disabled=model.manifest.runtime == "onnx-text",
                             help=t("Texts longer than {0} tokens are read in windows whose scores are averaged, "
                                    "instead of being cut at the max length.").format(model.manifest.max_length))
        infos = {t.id for t in db.list_taxonomies()}
        if model.manifest.taxonomy not in infos:
            show_error(t("Model '{0}' names taxonomy '{1}', which is not stored here.").format(
                plain(choice), plain(model.manifest.taxonomy)))
        elif text.strip():
            tax = taxonomy(db, model.manifest.taxonomy)
            level = c2.selectbox(t("Report at level"), ["model's codes", *range(1, tax.depth + 1)], key="models.level")
            with show_errors():
                clf = classifier(str(model.folder), long_texts="chunks" if chunks else "truncate")
                ranked = suggest(clf, [text], tax, top_k=top_k, level=None if level == "model's codes" else level)[0]
                for s in ranked:
                    path = plain(tax.path_label(s.code, state.lang))
                    st.progress(s.score, text=f"{s.score:.0%} · {plain(s.code)} · {path}")
    else:
        st.caption(t("No usable model."))

    versions_section(ctx)

    st.subheader(t("Add a model folder"))
    st.caption(t("Copy an exported model folder (ONNX or transformers files with workbench.json) into the models "
               "folder, then check it here."))
    path_text = st.text_input(t("Folder (inside the models folder)"), key="models.add_path")
    if not may("add_model"):
        not_allowed("add_model")
    if st.button(t("Check and add"), key="models.add", disabled=not path_text.strip() or not may("add_model")):
        with show_errors():
            folder = resolve_model_path(path_text, cfg.models_dir)
            check_may_add_model(db)
            clf = classifier(str(folder))
            tax = taxonomy(db, clf.manifest.taxonomy) if clf.manifest.taxonomy else None
            if tax is None:
                raise WorkbenchError("the folder does not say which taxonomy its codes belong to (workbench.json)")
            unknown = check_codes(clf.manifest, tax)
            clf.predict_scores(["a test sentence"])
            st.success(t("Model '{0}' {1} works: {2} codes of {3}.").format(
                    clf.manifest.name, clf.manifest.version, len(clf.manifest.codes), tax.name))
            if unknown:
                st.warning(t("{0} output code(s) are not in the taxonomy and will be dropped: {1}").format(
                        len(unknown), ', '.join(unknown[:10])))

    with st.expander(t("Connect an Annif project")):
        st.caption(t("An Annif server's project becomes a model like any other: suggestions, bulk jobs, figures, "
                     "ensembles. Record texts are sent to the server; servers other than this machine's must be "
                     "allowed by an administrator (WORKBENCH_REMOTE_HOSTS)."))
        a1, a2 = st.columns(2)
        annif_url = a1.text_input(t("Annif server"), value="http://localhost:5000", key="models.annif_url")
        annif_project = a2.text_input(t("Project id"), key="models.annif_project")
        stored = [x.id for x in db.list_taxonomies()]
        a3, a4, a5 = st.columns(3)
        annif_tax = a3.selectbox(t("Taxonomy"), stored, key="models.annif_taxonomy") if stored else None
        annif_level = a4.selectbox(t("Codes at level"), ["every code", 1, 2, 3], key="models.annif_level",
                                   format_func=lambda v: t(v) if isinstance(v, str) else str(v))
        annif_name = a5.text_input(t("Folder name"), value=f"{annif_tax or 'x'}-annif", key="models.annif_name")
        if st.button(t("Connect"), key="models.annif_connect",
                     disabled=not (annif_project.strip() and annif_tax and annif_name.strip()) or not may("add_model")):
            with show_errors():
                folder = resolve_model_path(annif_name.strip(), cfg.models_dir, must_exist=False)
                made = add_annif(db, folder, url=annif_url.strip(), project=annif_project.strip(),
                                     taxonomy=taxonomy(db, annif_tax),
                                     level=None if annif_level == "every code" else int(annif_level))
                st.success(t("Connected '{0}': {1}, {2} codes.").format(
                    plain(made.name), plain(made.training["method"]), len(made.codes)))

    with st.expander(t("Connect an LLM")):
        st.caption(t("A generative model behind an OpenAI-compatible endpoint (vLLM, llama.cpp's server, Ollama) "
                     "re-ranks a model's top suggestions, or chooses among a small taxonomy's codes. Its answers "
                     "are limited to the taxonomy's codes and cached. Record texts are sent to the endpoint; "
                     "endpoints other than this machine's must be allowed by an administrator "
                     "(WORKBENCH_REMOTE_HOSTS)."))
        l1, l2 = st.columns(2)
        llm_url = l1.text_input(t("Endpoint (its /v1 address)"), value="http://localhost:8000/v1", key="models.llm_url")
        llm_model = l2.text_input(t("Model name at the endpoint"), key="models.llm_model")
        shortlists = [m for m in usable if m.manifest.runtime != "llm"
                      and m.manifest.taxonomy == state.taxonomy_id]
        l3, l4, l5 = st.columns(3)
        llm_short = l3.selectbox(t("Re-rank the suggestions of"), [m.manifest.name for m in shortlists],
                                 key="models.llm_shortlist")
        llm_k = l4.number_input(t("Candidates a record"), 2, 26, 8, key="models.llm_top_k")
        llm_name = l5.text_input(t("Folder name"), value=f"{llm_short or 'x'}-llm-rerank", key="models.llm_name")
        if st.button(t("Connect"), key="models.llm_connect",
                     disabled=not (llm_model.strip() and llm_short and llm_name.strip()) or not may("add_model")):
            with show_errors():
                short = next(m for m in shortlists if m.manifest.name == llm_short)
                folder = resolve_model_path(llm_name.strip(), cfg.models_dir, must_exist=False)
                made = add_llm(db, folder, taxonomy=taxonomy(db, short.manifest.taxonomy), mode="rerank",
                                   url=llm_url.strip(), model=llm_model.strip(), shortlist=short.folder,
                                   top_k=int(llm_k))
                st.success(t("Connected '{0}': {1}, {2} codes.").format(
                    plain(made.name), plain(made.training["method"]), len(made.codes)))

    st.divider()
    backup_section(db, cfg.home, "models")
