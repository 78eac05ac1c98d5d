"""Models: installed classifiers, adding a model folder, trying a text."""

import streamlit as st

from ui.common import settings

st.title("Models")
cfg = settings()
st.info(
    "Classifier model folders (ONNX or PyTorch/transformers, with a small manifest naming the "
    f"taxonomy codes) are read from {cfg.models_dir}. Loading them, trying a text and seeing its "
    "ranked suggestions come with the runtimes."
)
folders = sorted(p.name for p in cfg.models_dir.iterdir() if p.is_dir()) if cfg.models_dir.is_dir() else []
st.write(f"Model folders found: {', '.join(folders) if folders else 'none yet'}")
