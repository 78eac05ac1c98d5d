"""Performance: per-category strict and lenient metrics and the bubble chart (team leads)."""

import streamlit as st

from ui.common import session, store

state = session()
db = store()
st.title("Performance")
st.info(
    "Per-category precision, recall and F1 (strict, lenient and hierarchical) of the models against "
    "expert labels come here, with a bubble chart coloured by performance. Below: how the records "
    "are spread today."
)
c1, c2 = st.columns(2)
c1.write("Records by language")
c1.dataframe([{"language": k or "(unknown)", "records": v} for k, v in db.record_counts_by("language").items()],
             hide_index=True, key="performance.languages")
c2.write("Records by domain")
c2.dataframe([{"domain": k or "(unknown)", "records": v} for k, v in db.record_counts_by("domain").items()],
             hide_index=True, key="performance.domains")
db.close()
