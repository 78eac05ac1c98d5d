"""The bulk classification step on Ray, for corpora beyond one machine: each input file is read by
the workbench's own readers (``read_chunks``: every format, encoding and delimiter the app reads,
XLSX included) inside a Ray read task, ``map_batches`` runs the models in a pool of workers (one
model load per worker) and builds the same cells as every other path (``classified_rows``), and
the results are written as part files, in input order.

Locally ``classify_on_ray`` starts a Ray instance with ``workers`` CPUs; give ``address``
("auto" on a cluster node, or "ray://head:10001") to use an existing cluster. Every node needs
this project and the input and model folders at the same path (or a shared file system); the
workers find the project through PYTHONPATH.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import pandas as pd

from core.files.records_io import SourceInfo, inspect_source, read_chunks
from core.files.writers import neutralise
from core.jobs.lifecycle import JobError
from core.jobs.results import classified_rows
from core.models.scoring import result_columns
from core.processes import ray_session
from core.work.column_mapping import validate_mapping


class RayPredictor:
    """One per Ray worker: loads the models once, classifies pandas batches (all columns text)."""

    def __init__(self, model_folders: Sequence[str], taxonomy, mapping: dict[str, str], top_k: int,
                 threshold: float, level: int | None, spreadsheet: bool, lang: str = "en", threads: int = 1,
                 within: Sequence[str] = ()):
        from core.models.runtimes import load_classifier

        self.classifiers = [load_classifier(f, threads=threads) for f in model_folders]
        self.taxonomy, self.mapping, self.spreadsheet = taxonomy, mapping, spreadsheet
        self.options = {"top_k": top_k, "threshold": threshold, "level": level, "lang": lang, "within": tuple(within)}
        self.columns = result_columns([c.manifest.name for c in self.classifiers], top_k)

    def __call__(self, batch: pd.DataFrame) -> pd.DataFrame:
        records = [{f: batch[c].iat[k] for f, c in self.mapping.items()} for k in range(len(batch))]
        cells = classified_rows(self.classifiers, self.taxonomy, records, **self.options)
        out = batch.map(neutralise) if self.spreadsheet else batch.copy()
        for j, col in enumerate(self.columns):
            values = [row[j] for row in cells]
            out[col] = [neutralise(v) for v in values] if self.spreadsheet else values
        if self.spreadsheet:  # headers too
            out.columns = [neutralise(c) for c in out.columns]
        return out


def _read_tasks(files: Sequence[tuple[str, SourceInfo]], chunk_size: int):
    """One Ray read task per file, yielding its chunks as pandas frames (text columns)."""
    from ray.data.block import BlockMetadata
    from ray.data.datasource import ReadTask

    def reader(path: str, info: SourceInfo):
        def read():
            for _, cols in read_chunks(path, info, chunk_size=chunk_size):
                yield pd.DataFrame({c: cols[c] for c in info.columns}, dtype=object)
        return read

    return [ReadTask(reader(path, info), BlockMetadata(num_rows=info.rows_hint, size_bytes=info.size or None,
                                                       exec_stats=None, input_files=(path,)))
            for path, info in files]


def _datasource(files: Sequence[tuple[str, SourceInfo]], chunk_size: int):
    from ray.data.datasource import Datasource

    class WorkbenchFiles(Datasource):
        def estimate_inmemory_data_size(self):
            return None

        def get_read_tasks(self, parallelism, per_task_row_limit=None, data_context=None):  # noqa: ARG002 - Ray's Datasource interface
            return _read_tasks(files, chunk_size)

    return WorkbenchFiles()


def classify_on_ray(paths: Sequence[str | Path], output: str | Path, model_folders: Sequence[str | Path], taxonomy,
                    mapping: dict[str, str | None], *, top_k: int = 3, threshold: float = 0.0,
                    level: int | None = None, fmt: str | None = None, encoding: str | None = None,
                    delimiter: str | None = None, out_format: str = "csv", workers: int = 2, batch_size: int = 1024,
                    address: str | None = None, within: Sequence[str] = ()) -> int:
    """Classify files on Ray; writes part files into the ``output`` folder and returns the row count."""
    import ray

    if out_format not in ("csv", "parquet"):
        raise JobError(f"Ray writes csv or parquet, not '{out_format}'")
    infos = [inspect_source(Path(p), Path(p).name, fmt=fmt, encoding=encoding, delimiter=delimiter) for p in paths]
    if any(list(i.columns) != list(infos[0].columns) for i in infos):
        raise JobError("the files must have the same columns: " + "; ".join(
            f"{i.name}: {', '.join(i.columns)}" for i in infos))
    mapped = validate_mapping(infos[0], mapping)
    output = Path(output)
    if output.exists() and any(output.iterdir()):
        raise JobError(f"'{output}' exists and is not empty; choose a new folder")
    # local: one logical CPU more than the workers, for the read and write tasks beside them
    with ray_session(address, workers + 1):
        ray.data.DataContext.get_current().execution_options.preserve_order = True
        ds = ray.data.read_datasource(_datasource([(str(Path(p).resolve()), i) for p, i in zip(paths, infos)],
                                                    batch_size))
        ds = ds.map_batches(
            RayPredictor, batch_format="pandas", batch_size=batch_size, concurrency=workers, num_cpus=1,
            fn_constructor_args=([str(f) for f in model_folders], taxonomy, mapped, top_k, threshold, level,
                                 out_format == "csv", "en", 1, tuple(within)),
        )
        if out_format == "csv":
            ds.write_csv(str(output))
        else:
            ds.write_parquet(str(output))
        return sum(_rows(p, out_format) for p in sorted(output.iterdir()) if p.is_file())


def _rows(path: Path, fmt: str) -> int:
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return pq.ParquetFile(path).metadata.num_rows
    return len(pd.read_csv(path, dtype=str, usecols=[0]))


__all__ = ["RayPredictor", "classify_on_ray"]
