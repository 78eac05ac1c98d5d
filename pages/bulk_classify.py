"""Bulk classify: classify whole files of records in a background job (librarians)."""

import streamlit as st

from ui.common import session, store

state = session()
db = store()
st.title("Bulk classify")
st.info(
    "Bulk classification comes with the classifier runtimes: upload or point to a file of records, "
    "choose a model, follow progress, stop and resume, and download the results for a spreadsheet. "
    "Records imported on the Import page are listed below, ready for it."
)
batches = db.list_batches()
st.dataframe(
    [{"#": b.id, "file": b.file_name, "records": b.rows_imported, "imported": b.finished_at[:19].replace("T", " ")}
     for b in batches],
    hide_index=True, width="stretch", key="bulk.batches",
)
db.close()
