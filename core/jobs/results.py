"""What a classification writes: the input file's columns followed by each model's top-k codes,
names and scores (``core.models.scoring``'s cells), as a job's downloadable results or streamed
by ``classify`` from a file to a file. Every path builds its rows with ``classified_rows`` /
``output_cells``, so the app, the CLI and Ray write the same cells for the same row.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from core.files.records_io import inspect_source, read_chunks
from core.files.writers import TableWriter
from core.jobs.lifecycle import JobError, JobInfo, file_digest
from core.models.scoring import output_cells, rank, result_columns
from core.store import Store
from core.work.column_mapping import validate_mapping


def classified_rows(classifiers: Sequence, taxonomy, records: Sequence[dict[str, Any]], *, top_k: int = 3,
                    threshold: float = 0.0, level: int | None = None, lang: str = "en",
                    within: Sequence[str] = ()) -> list[list]:
    """For each record, every model's ``top_k`` × (code, name, score) cells, models in order.
    ``taxonomy``: one for all models, or one per model (models of several taxonomies in one run).
    Models on the same encoder reading the same fields encode each record once. A record with no
    text for a model gets empty cells (nothing is guessed from an empty string; a bulk job leaves
    such rows out at import, so its results agree). ``within``: every model's scores limited to
    those nodes of its taxonomy (``core.models.limits``)."""
    from core.models.limits import limited_scores
    from core.work.embeddings import cache_key

    taxonomies = list(taxonomy) if isinstance(taxonomy, (list, tuple)) else [taxonomy] * len(classifiers)
    cells: list[list] = [[] for _ in records]
    vectors: dict[str, Any] = {}
    for clf, tax in zip(classifiers, taxonomies):
        texts = [clf.manifest.text_of(r) for r in records]
        scored = [i for i, t in enumerate(texts) if t]
        chosen = [texts[i] for i in scored]
        key = cache_key(clf)
        if key is None or not chosen:
            scores = clf.predict_scores(chosen)
        else:
            if key not in vectors:
                vectors[key] = clf.embed(chosen)
            scores = clf.scores_from_vectors(vectors[key], chosen)
        if within:
            scores = limited_scores(clf.manifest, tax, scores, within)[0]
        ranked = dict(zip(scored, rank(clf.manifest, scores, tax, top_k=top_k, threshold=threshold, level=level)))
        for i, row in enumerate(cells):
            row += output_cells(ranked.get(i, []), tax, top_k, lang)
    return cells


def routed_columns(taxonomy_ids: Sequence[str], top_k: int) -> list[str]:
    """A routed run's columns: per taxonomy ``<t>_code_1, <t>_name_1, <t>_score_1, …, <t>_model``
    (the model that scored the row), then ``row_language`` (the language the row was read as)."""
    out = []
    for t in taxonomy_ids:
        out += [f"{t}_{kind}_{i}" for i in range(1, top_k + 1) for kind in ("code", "name", "score")]
        out.append(f"{t}_model")
    return out + ["row_language"]


def routed_rows(routes: Sequence, taxonomies: Sequence, records: Sequence[dict[str, Any]], loaded: dict, *,
                top_k: int = 3, threshold: float = 0.0, level: int | None = None, lang: str = "en",
                long_texts: str = "truncate", counts: dict | None = None, store: Store | None = None) -> list[list]:
    """For each record, per route (taxonomy) the top-k cells of the model that serves its language
    and that model's name, then the row's language (``core.work.routing``). ``loaded``: {folder
    name: classifier}, kept by the caller across chunks. Rows of one language read by models on
    one encoder are encoded once. ``counts``: the run's per-language counts, updated. ``store``: the
    workspace whose models in use serve the languages (else each language's default)."""
    from core.models.runtimes import load_classifier
    from core.work.embeddings import cache_key, language_shifted
    from core.work.routing import count_languages, row_languages

    languages = row_languages(records)
    cells: list[list] = [[] for _ in records]
    vectors: dict[tuple, Any] = {}
    for number, (route, tax) in enumerate(zip(routes, taxonomies)):
        ranked_all: dict[int, list] = {}
        used: list[str] = [""] * len(records)
        for name, rows in route.groups(languages, store).items():
            if name not in loaded:
                loaded[name] = load_classifier(route.models_dir / name, long_texts=long_texts)
            clf = loaded[name]
            texts = [clf.manifest.text_of(records[i]) for i in rows]
            scored = [i for i, t in zip(rows, texts) if t]
            chosen = [t for t in texts if t]
            key = cache_key(clf)
            if key is None or not chosen:
                scores = clf.predict_scores(chosen)
            else:
                memo = (key, tuple(scored))
                if memo not in vectors:
                    vectors[memo] = clf.embed(chosen)
                read = vectors[memo]
                if store is not None:  # the workspace's language means, as its own records are read
                    read = language_shifted(store, clf, [{"language": languages[i]} for i in scored], read)
                scores = clf.scores_from_vectors(read, chosen)
            ranked_all.update(zip(scored, rank(clf.manifest, scores, tax, top_k=top_k, threshold=threshold,
                                               level=level)))
            for i in rows:
                used[i] = name
        for i, row in enumerate(cells):
            row += output_cells(ranked_all.get(i, []), tax, top_k, lang) + [used[i]]
        if counts is not None:
            top = [ranked_all[i][0].score if ranked_all.get(i) else None for i in range(len(records))]
            count_languages(counts, languages, route.taxonomy_id, used, top, count_rows=number == 0)
    for i, row in enumerate(cells):
        row.append(languages[i])
    return cells


def job_taxonomies(store: Store, job: JobInfo) -> dict[str, Any]:
    """{model name: the taxonomy it classifies into} for a job's models."""
    loaded: dict[str, Any] = {}
    out = {}
    for m in job.models or [{"name": name, "taxonomy": job.params.taxonomy_id} for name in model_names(job)]:
        tid = m.get("taxonomy") or job.params.taxonomy_id
        if tid not in loaded:
            loaded[tid] = store.load_taxonomy(tid)
        out[m["name"]] = loaded[tid]
    return out


def model_names(job: JobInfo) -> list[str]:
    return [m["name"] for m in job.models] or [Path(f).name for f in job.params.models]


def result_rows(store: Store, job: JobInfo, lang: str = "en", chunk_size: int = 5000,
                verify: bool = True) -> Iterator[tuple[list[str], list[list]]]:
    """(header, rows) chunks of a job's results, in the file's row order. ``verify``: check the
    job's copy of its file against its SHA-256 first (a preview of the first rows may skip it)."""
    params = job.params
    try:
        intact = Path(params.source).is_file() and (
            not verify or not params.source_sha256 or file_digest(params.source) == params.source_sha256)
    except OSError:
        intact = False
    if not intact:
        raise JobError(f"job #{job.id}'s copy of '{params.file_name}' is missing or was changed, so its rows "
                       "can no longer be matched to the results; run the job again")
    taxonomies = job_taxonomies(store, job)
    names = model_names(job)
    info = inspect_source(params.source, params.file_name, fmt=params.fmt, encoding=params.encoding,
                          delimiter=params.delimiter)
    errors = bool(job.checkpoint.get("errors"))  # an "error" column only where some record failed
    routes = {t: [m["name"] for m in job.models if m["taxonomy"] == t] for t in params.route}
    columns = routed_columns(list(routes), params.top_k) if routes else result_columns(names, params.top_k)
    header = list(info.columns) + columns + (["error"] if errors else [])
    loaded_taxonomies = {t: store.load_taxonomy(t) for t in routes}
    for rows, cols in read_chunks(params.source, info, chunk_size=chunk_size):
        found = store.job_results_for_rows(job.id, rows)
        languages = store.job_row_languages(job.id, rows) if routes else {}
        out = []
        for k, row in enumerate(rows):
            values, problems = [cols[c][k] for c in info.columns], []
            if routes:  # each row was scored by one model of each route: the one for its language
                for t, candidates in routes.items():
                    name = next((n for n in candidates if (row, n) in found), "")
                    result = found.get((row, name), [])
                    if isinstance(result, dict):
                        problems.append(f"{name}: {result.get('error', '')}")
                        result = []
                    values += output_cells(result, loaded_taxonomies[t], params.top_k, lang) + [name]
                values.append(languages.get(row, ""))
            for name in [] if routes else names:
                result = found.get((row, name), [])
                if isinstance(result, dict):  # this record failed for this model
                    problems.append(f"{name}: {result.get('error', '')}" if len(names) > 1 else result.get("error", ""))
                    result = []
                values += output_cells(result, taxonomies[name], params.top_k, lang)
            out.append(values + (["; ".join(problems)] if errors else []))
        yield header, out


def write_results(store: Store, job: JobInfo, fmt: str, target: str | Path | io.IOBase, lang: str = "en") -> None:
    """Stream a job's results to a CSV or XLSX file (or a binary file object)."""
    if fmt not in ("csv", "xlsx"):
        raise JobError(f"results download as csv or xlsx, not '{fmt}'")
    with TableWriter(target, fmt) as out:
        for i, (header, rows) in enumerate(result_rows(store, job, lang)):
            if i == 0:
                out.row(header)
            out.rows(rows)


def distribution(store: Store, job: JobInfo, model_name: str | None = None) -> dict[str, int]:
    """How many rows have each code as their first suggestion."""
    return store.job_top_code_counts(job.id, model_name or model_names(job)[0])


def classify_file(classifiers: Sequence, taxonomy, source: str | Path, name: str, mapping: dict[str, str | None],
                  output: str | Path, *, top_k: int = 3, threshold: float = 0.0, level: int | None = None,
                  fmt: str | None = None, encoding: str | None = None, delimiter: str | None = None,
                  chunk_size: int = 2000, lang: str = "en",
                  progress: Callable[[int, float], None] | None = None, routes: Sequence | None = None,
                  counts: dict | None = None, long_texts: str = "truncate", store: Store | None = None,
                  within: Sequence[str] = ()) -> int:
    """Stream a file through models into an output file (CSV, or XLSX by its suffix), memory
    bounded by the chunk size; nothing is stored in a workspace. Returns the rows written.
    ``routes`` (``core.work.routing.Route``, one per taxonomy in ``taxonomy``): each row goes to the
    model that serves its language instead of every one of ``classifiers`` (``counts``: the run's
    per-language counts, filled)."""
    info = inspect_source(source, name, fmt=fmt, encoding=encoding, delimiter=delimiter)
    mapped = validate_mapping(info, mapping)
    fraction = 0.0

    def on_progress(value: float) -> None:
        nonlocal fraction
        fraction = value

    written, loaded = 0, {}
    taxonomies = list(taxonomy) if isinstance(taxonomy, (list, tuple)) else [taxonomy] * len(routes or [0])
    with TableWriter(output, "xlsx" if Path(output).suffix.lower() == ".xlsx" else "csv") as out:
        out.row(list(info.columns) + (routed_columns([r.taxonomy_id for r in routes], top_k) if routes else
                                      result_columns([c.manifest.name for c in classifiers], top_k)))
        for rows, cols in read_chunks(source, info, chunk_size=chunk_size, progress=on_progress):
            records = [{f: cols[c][k] for f, c in mapped.items()} for k in range(len(rows))]
            if routes:
                cells = routed_rows(routes, taxonomies, records, loaded, top_k=top_k, threshold=threshold,
                                    level=level, lang=lang, long_texts=long_texts, counts=counts, store=store)
            else:
                cells = classified_rows(classifiers, taxonomy, records, top_k=top_k, threshold=threshold,
                                        level=level, lang=lang, within=within)
            out.rows([cols[c][k] for c in info.columns] + cells[k] for k in range(len(rows)))
            written += len(rows)
            if progress:
                progress(written, fraction)
    return written


__all__ = ["classified_rows", "classify_file", "distribution", "job_taxonomies", "model_names", "result_rows",
           "routed_columns", "routed_rows", "write_results"]
