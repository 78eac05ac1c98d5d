"""Every record's final code for the catalogue: an expert's label before a machine-accepted one,
before the imported one; an expert's rejection leaves no final code."""

import io
import json

import pandas as pd

from core.cli import main
from core.domain.labels import MACHINE_ROLE, Event
from core.work.annotation import Annotator
from core.work.final_codes import final_codes, final_codes_bytes


def test_provenance_order_and_exports(arxiv_ws, tmp_path, capsys):
    store, ford = arxiv_ws  # 150 arXiv records, the first 30 with imported labels
    ids = [r["id"] for r in store.records(limit=150)]
    eva = Annotator(store, "Eva", "expert", ford)
    eva.correct(ids[0], ["5.2"], [])  # overrides the imported label
    eva.reject(ids[1], [])  # an expert said no: the imported label is not final either
    store.add_event(Event(ids[2], "ford", "model:m@1", MACHINE_ROLE, "machine-accept", ("1.2",)))  # over imported
    store.add_event(Event(ids[40], "ford", "model:m@1", MACHINE_ROLE, "machine-accept", ("1.3",)))
    eva.correct(ids[40], ["1.1"], [])  # the expert comes after the machine
    store.add_event(Event(ids[41], "ford", "model:m@1", MACHINE_ROLE, "machine-accept", ("2.2",)))
    frame = final_codes(store, ford).set_index("record_id")
    assert frame.loc[ids[0], "codes"] == "5.2" and frame.loc[ids[0], "provenance"] == "expert"
    assert ids[1] not in frame.index
    assert frame.loc[ids[2], "provenance"] == "machine" and frame.loc[ids[2], "codes"] == "1.2"
    assert frame.loc[ids[40], "codes"] == "1.1" and frame.loc[ids[40], "by"] == "Eva"
    assert frame.loc[ids[41], "provenance"] == "machine"
    imported = json.loads(store.record(ids[3])["labels"])
    assert frame.loc[ids[3], "codes"] == "|".join(imported) and frame.loc[ids[3], "provenance"] == "imported"
    assert len(frame) == 30 - 1 + 2 and (frame["collection"] == "arxiv").all()
    assert frame.loc[ids[0], "names"] == ford.name_of("5.2")
    back = pd.read_excel(io.BytesIO(final_codes_bytes(frame.reset_index(), "xlsx")), dtype=str)
    assert len(back) == len(frame)
    assert main(["--db", str(store.path), "export-final", "ford", str(tmp_path / "final.jsonl")]) == 0
    assert "31 records' final codes" in capsys.readouterr().out
    assert len((tmp_path / "final.jsonl").read_text().splitlines()) == 31
    assert final_codes(store, ford, collection="other").empty
