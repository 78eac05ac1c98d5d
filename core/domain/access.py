"""Who may do what: the four roles and the actions each may take. Pure: the store, the pages and
the CLI ask ``check`` before they act, so a page that forgets to hide a button still refuses."""

from __future__ import annotations

from core.errors import WorkbenchError

ROLES = ("expert", "librarian", "lead", "admin")
ROLE_NAMES = {"expert": "Domain expert", "librarian": "Librarian", "lead": "Team lead", "admin": "Administrator"}

EVERYONE = frozenset(ROLES)
LEADS = frozenset({"lead", "admin"})
LIBRARY = frozenset({"librarian", "lead", "admin"})

PERMISSIONS: dict[str, frozenset[str]] = {
    # labelling: one's own labels only (nobody edits another's label: a lead adjudicates into gold)
    "annotate": EVERYONE,
    "adjudicate": LEADS,  # resolve a record into a gold label
    "assign": LEADS,  # assign queues to annotators, set overlap and gold items
    "edit_scope_notes": LEADS,
    "view_team": LEADS,  # per-annotator figures
    # records and files
    "import_records": LIBRARY,
    "delete_batch": LIBRARY,
    "bulk_classify": LIBRARY,
    "triage": LIBRARY,  # machine-accept confident suggestions, or undo that
    "export": EVERYONE,
    # models and taxonomies
    "train": LEADS,
    "promote": LEADS,  # promote or roll back a model version
    "delete_version": LEADS,
    "add_model": LEADS,
    "import_taxonomy": LEADS,
    # the workspace
    "backup": LEADS,
    "restore": frozenset({"admin"}),
    "manage_users": frozenset({"admin"}),
}

ACTION_NAMES = {
    "annotate": "label records", "adjudicate": "resolve records into gold labels", "assign": "assign work",
    "edit_scope_notes": "edit scope notes", "view_team": "see the team's figures", "import_records": "import records",
    "delete_batch": "delete an import", "bulk_classify": "run bulk jobs", "triage": "machine-accept labels",
    "export": "export", "train": "train model versions", "promote": "promote or roll back model versions",
    "delete_version": "delete model versions", "add_model": "add model folders",
    "import_taxonomy": "import or replace taxonomies", "backup": "back up the workspace",
    "restore": "restore the workspace", "manage_users": "manage accounts",
}


class PermissionDenied(WorkbenchError):
    prefix = "Not allowed"


def allowed(role: str, action: str) -> bool:
    if action not in PERMISSIONS:
        raise KeyError(f"unknown action '{action}'")
    return role in PERMISSIONS[action]


def check(role: str, action: str, who: str = "") -> None:
    """Raise ``PermissionDenied`` unless ``role`` may take ``action``."""
    if not allowed(role, action):
        may = ", ".join(ROLE_NAMES[r].lower() for r in ROLES if r in PERMISSIONS[action])
        whom = f"{who} ({ROLE_NAMES.get(role, role).lower()})" if who else f"a {ROLE_NAMES.get(role, role).lower()}"
        raise PermissionDenied(f"{whom} may not {ACTION_NAMES[action]}; that is for: {may}")
