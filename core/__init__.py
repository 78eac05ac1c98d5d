"""Pure domain code of the subject-classification workbench (never imports streamlit)."""
