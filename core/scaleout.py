"""The bulk classification step on Ray, for corpora beyond one machine: ``ray.data`` reads the
input, ``map_batches`` runs the same ONNX runtime in a pool of workers (one model load per
worker), and the results (input columns + top-k codes, names, scores) are written as part files.

Locally ``classify_on_ray`` starts a Ray instance with ``workers`` CPUs; give ``address``
("auto" on a cluster node, or "ray://head:10001") to use an existing cluster. Every node needs
this project and the model folder at the same path (or a shared file system); the workers find
the project through PYTHONPATH.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import pandas as pd

from core.jobs import JobError, neutralise, result_columns

ROOT = Path(__file__).resolve().parents[1]


class RayPredictor:
    """One per Ray worker: loads the model once, classifies pandas batches."""

    def __init__(self, model_folders: Sequence[str], taxonomy, mapping: dict[str, str], top_k: int,
                 threshold: float, level: int | None, lang: str = "en", threads: int = 1):
        from core.runtimes import load_classifier

        self.classifiers = [load_classifier(f, threads=threads) for f in model_folders]
        self.taxonomy = taxonomy
        self.mapping = {f: c for f, c in mapping.items() if c}
        self.top_k, self.threshold, self.level, self.lang = top_k, threshold, level, lang

    def __call__(self, batch: pd.DataFrame) -> pd.DataFrame:
        from core.runtimes import ranked_from_scores

        batch = batch.astype(str).replace({"nan": "", "None": ""})
        records = [{f: row[c] for f, c in self.mapping.items()} for _, row in batch.iterrows()]
        out = batch.copy()
        names = [c.manifest.name for c in self.classifiers]
        columns = result_columns(names, self.top_k)
        values: list[list] = [[] for _ in range(len(batch))]
        for clf in self.classifiers:
            scores = clf.predict_scores([clf.manifest.text_of(r) for r in records])
            ranked = ranked_from_scores(clf.manifest, scores, self.taxonomy, top_k=self.top_k,
                                        threshold=self.threshold, level=self.level)
            for k, r in enumerate(ranked):
                for i in range(self.top_k):
                    if i < len(r):
                        values[k] += [r[i].code, self.taxonomy.name_of(r[i].code, self.lang), round(r[i].score, 6)]
                    else:
                        values[k] += ["", "", None]
        for j, col in enumerate(columns):
            out[col] = [v[j] for v in values]
        for col in batch.columns:
            out[col] = out[col].map(neutralise)
        return out


def _read(ray, paths: Sequence[str], fmt: str):
    if fmt in ("csv", "tsv"):
        import pyarrow as pa
        import pyarrow.csv as pacsv

        from core.records_io import inspect_source

        info = inspect_source(paths[0], Path(paths[0]).name)
        parse = pacsv.ParseOptions(delimiter=info.delimiter or ("\t" if fmt == "tsv" else ","),
                                   newlines_in_values=True)
        # every column as text (ids such as 0710.5385 must not become numbers), as the rest of the
        # workbench reads files
        convert = pacsv.ConvertOptions(column_types={c: pa.string() for c in info.columns},
                                       strings_can_be_null=False)
        return ray.data.read_csv(list(paths), parse_options=parse, convert_options=convert,
                                 read_options=pacsv.ReadOptions(use_threads=False, encoding=info.encoding or "utf8"))
    if fmt == "parquet":
        return ray.data.read_parquet(list(paths))
    if fmt == "jsonl":
        return ray.data.read_json(list(paths), lines=True)
    raise JobError(f"Ray reads csv, tsv, parquet or jsonl, not '{fmt}'")


def classify_on_ray(paths: Sequence[str | Path], output: str | Path, model_folders: Sequence[str | Path], taxonomy,
                    mapping: dict[str, str | None], *, top_k: int = 3, threshold: float = 0.0,
                    level: int | None = None, fmt: str | None = None, out_format: str = "csv",
                    workers: int = 2, batch_size: int = 1024, address: str | None = None) -> int:
    """Classify files on Ray; writes part files into the ``output`` folder and returns the row count."""
    import ray

    paths = [str(p) for p in paths]
    fmt = fmt or Path(paths[0]).suffix.lstrip(".").lower().replace("txt", "csv")
    if not any(mapping.get(f) for f in ("title", "abstract", "keywords")):
        raise JobError("map at least one text column (title, abstract or keywords)")
    output = Path(output)
    if output.exists() and any(output.iterdir()):
        raise JobError(f"'{output}' exists and is not empty; choose a new folder")
    started_here = not ray.is_initialized()
    if started_here:
        env = {"env_vars": {"PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}}
        if address:
            ray.init(address=address, runtime_env=env, log_to_driver=False)
        else:
            # one logical CPU more than the workers, for the read and write tasks beside them
            ray.init(num_cpus=workers + 1, include_dashboard=False, runtime_env=env, log_to_driver=False,
                     configure_logging=False)
    try:
        ds = _read(ray, paths, fmt)
        ds = ds.map_batches(
            RayPredictor, batch_format="pandas", batch_size=batch_size, concurrency=workers, num_cpus=1,
            fn_constructor_args=([str(f) for f in model_folders], taxonomy, dict(mapping), top_k, threshold, level),
        )
        if out_format == "csv":
            ds.write_csv(str(output))
        elif out_format == "parquet":
            ds.write_parquet(str(output))
        else:
            raise JobError(f"Ray writes csv or parquet, not '{out_format}'")
        return sum(_rows(p, out_format) for p in sorted(output.iterdir()) if p.is_file())
    finally:
        if started_here:
            ray.shutdown()


def _rows(path: Path, fmt: str) -> int:
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return pq.ParquetFile(path).metadata.num_rows
    return len(pd.read_csv(path, dtype=str, usecols=[0]))


__all__ = ["RayPredictor", "classify_on_ray"]
