"""Accounts, roles and sign-in: the store (Argon2id hashes, lockout, the last administrator), the
permission table, the command line acting as an account, and the app signing people in."""

import io
import subprocess
import sys

import pytest
from streamlit.testing.v1 import AppTest

from core.cli import main as cli
from core.domain.access import PERMISSIONS, ROLES, PermissionDenied, allowed, check
from core.settings import Settings
from core.store.users import AccountError, SignInFailed
from core.work.accounts import command_line_actor, sign_in_required
from tests.conftest import ROOT, corpus, import_frame

PASSWORD = "correct horse battery"


def test_roles_take_only_their_own_actions():
    assert allowed("expert", "annotate") and not allowed("expert", "delete_batch")
    assert not allowed("expert", "promote") and not allowed("librarian", "promote")
    assert allowed("librarian", "import_records") and allowed("librarian", "delete_batch")
    assert not allowed("librarian", "adjudicate") and allowed("lead", "adjudicate")
    assert allowed("admin", "manage_users") and not allowed("lead", "manage_users")
    assert all(allowed("admin", action) for action in PERMISSIONS)  # the administrator may do everything
    with pytest.raises(PermissionDenied, match="may not delete an import"):
        check("expert", "delete_batch", "eva")
    with pytest.raises(KeyError):
        allowed("lead", "no-such-action")
    assert set(ROLES) == {"expert", "librarian", "lead", "admin"}


def test_accounts_are_stored_with_argon2_hashes_and_sign_in_checks_them(store):
    user = store.add_user("kovacs.anna", PASSWORD, "expert", display_name="Kovács Anna", by="admin")
    assert user.shown == "Kovács Anna" and user.role == "expert"
    stored = store.db.execute("SELECT password_hash FROM users").fetchone()[0]
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert store.sign_in("kovacs.anna", PASSWORD).username == "kovacs.anna"
    assert store.sign_in("KOVACS.ANNA", PASSWORD).username == "kovacs.anna"  # names are not case-sensitive
    assert store.user("kovacs.anna").last_sign_in
    for name, password in (("kovacs.anna", "wrong password"), ("nobody", PASSWORD), ("", "")):
        with pytest.raises(SignInFailed, match="wrong account name or password"):  # the same words either way
            store.sign_in(name, password)
    with pytest.raises(AccountError, match="exists already"):
        store.add_user("Kovacs.Anna", PASSWORD, "expert", by="admin")
    for bad in ("", " ", "a" * 65, "ann\x00a", "-anna", "ann\ta", "<script>", "anna.", "=cmd|' /C calc'!A0"):
        with pytest.raises(AccountError, match="not a usable account name"):
            store.add_user(bad, PASSWORD, "expert", by="admin")
    with pytest.raises(AccountError, match="at least 8"):
        store.add_user("short", "1234567", "expert", by="admin")
    with pytest.raises(AccountError, match="unknown role"):
        store.add_user("someone", PASSWORD, "superuser", by="admin")
    store.add_user("Szabó Éva", PASSWORD, "lead", by="admin")  # accents and a space are fine
    assert store.sign_in("Szabó Éva", PASSWORD).role == "lead"


def test_five_wrong_passwords_lock_the_account_and_disabled_accounts_cannot_sign_in(store):
    store.add_user("anna", PASSWORD, "expert", by="admin")
    for _ in range(5):
        with pytest.raises(SignInFailed):
            store.sign_in("anna", "guess")
    with pytest.raises(SignInFailed) as locked:
        store.sign_in("anna", PASSWORD)  # even the right password, while locked
    with pytest.raises(SignInFailed) as unknown:
        store.sign_in("nobody-here", PASSWORD)
    assert str(locked.value) == str(unknown.value)  # a locked account reads like an unknown name: no probing
    assert any(e["action"] == "locked" for e in store.account_events("anna"))
    store.enable_user("anna", by="admin")  # an administrator lifts the lock
    assert store.sign_in("anna", PASSWORD)
    store.disable_user("anna", by="admin")
    with pytest.raises(SignInFailed, match="disabled"):
        store.sign_in("anna", PASSWORD)


def test_the_last_administrator_cannot_be_demoted_or_disabled(store):
    store.add_user("root", PASSWORD, "admin", by="root")
    with pytest.raises(AccountError, match="last active administrator"):
        store.set_role("root", "lead", by="root")
    with pytest.raises(AccountError, match="last active administrator"):
        store.disable_user("root", by="root")
    store.add_user("second", PASSWORD, "admin", by="root")
    assert store.set_role("root", "lead", by="second").role == "lead"
    assert [e["action"] for e in store.account_events()] == ["add", "add", "set-role"]
    assert store.account_events()[-1]["by"] == "second"


def test_sign_in_is_required_with_accounts_or_on_a_network(store):
    local, network = Settings.from_env({}), Settings.from_env({"WORKBENCH_SERVE": "network"})
    off = Settings.from_env({"WORKBENCH_SIGN_IN": "off"})
    assert not sign_in_required(local, store) and sign_in_required(network, store)
    store.add_user("root", PASSWORD, "admin", by="root")
    assert sign_in_required(local, store) and not sign_in_required(off, store)
    assert sign_in_required(Settings.from_env({"WORKBENCH_SERVE": "network", "WORKBENCH_SIGN_IN": "off"}), store)


def test_a_command_acts_as_an_account_and_is_checked_against_its_role(store):
    # no accounts: single-user, whoever runs the command
    assert command_line_actor(store, "delete_batch", "someone") == ("someone", "admin")
    store.add_user("root", PASSWORD, "admin", by="root")
    store.add_user("eva", PASSWORD, "expert", by="root")
    assert command_line_actor(store, "promote", "root") == ("root", "admin")
    with pytest.raises(PermissionDenied, match="may not promote"):
        command_line_actor(store, "promote", "eva")
    with pytest.raises(PermissionDenied, match="no account named 'mallory'"):
        command_line_actor(store, "export", "mallory")
    store.add_user("old", PASSWORD, "lead", by="root")
    store.disable_user("old", by="root")
    with pytest.raises(PermissionDenied, match="disabled"):
        command_line_actor(store, "export", "old")


def _cli(db, *args, stdin: str = ""):
    out, err = io.StringIO(), io.StringIO()
    old = sys.stdin, sys.stdout, sys.stderr
    sys.stdin, sys.stdout, sys.stderr = io.StringIO(stdin), out, err
    try:
        code = cli(["--db", str(db), *args])
    finally:
        sys.stdin, sys.stdout, sys.stderr = old
    return code, out.getvalue(), err.getvalue()


def test_users_from_the_command_line_and_role_checks_on_other_commands(store, tmp_path):
    db = store.path
    frame = corpus("sci_arxiv_abstracts_sample.csv", slice(0, 20))
    report = import_frame(store, frame, "a.csv", {"id": "id", "title": "title", "abstract": "abstract"})
    code, _, err = _cli(db, "users", "add", "eva", "--role", "expert", "--password-stdin", stdin=PASSWORD + "\n")
    assert code == 2 and "first account must be an administrator" in err
    code, out, _ = _cli(db, "users", "add", "root", "--role", "admin", "--password-stdin", stdin=PASSWORD + "\n")
    assert code == 0 and "sign-in is now required" in out
    code, _, _ = _cli(db, "--as", "root", "users", "add", "eva", "--role", "expert", "--password-stdin",
                      stdin=PASSWORD + "\n")
    assert code == 0
    code, _, err = _cli(db, "--as", "eva", "users", "add", "mallory", "--role", "admin", "--password-stdin",
                        stdin=PASSWORD + "\n")
    assert code == 2 and "may not manage accounts" in err
    code, out, _ = _cli(db, "--as", "root", "users", "list")
    assert "root" in out and "eva" in out and "expert" in out
    # an expert may not delete an import; the librarian may, and the deletion records the account
    code, _, err = _cli(db, "--as", "eva", "delete-batch", str(report.batch_id))
    assert code == 2 and "may not delete an import" in err
    assert store.count_records() == 20
    _cli(db, "--as", "root", "users", "set-role", "eva", "librarian")
    code, out, err = _cli(db, "--as", "eva", "delete-batch", str(report.batch_id))
    assert code == 0, err
    assert store.count_records() == 0
    deletions = store.db.execute("SELECT DISTINCT annotator, role FROM annotations WHERE action = 'delete'").fetchall()
    assert deletions == [("eva", "librarian")]
    code, _, err = _cli(db, "--as", "nobody", "export-events", str(tmp_path / "e.jsonl"))
    assert code == 2 and "no account named 'nobody'" in err
    code, _, _ = _cli(db, "--as", "root", "users", "disable", "eva")
    assert code == 0 and store.user("eva").disabled


def test_the_command_line_reads_a_password_it_never_echoes(store):
    proc = subprocess.run([sys.executable, "-m", "core", "--db", str(store.path), "users", "add", "root", "--role",
                           "admin", "--password-stdin"], input=PASSWORD + "\n", capture_output=True, text=True,
                          cwd=ROOT, timeout=60)
    assert proc.returncode == 0 and PASSWORD not in proc.stdout + proc.stderr


# the app

def _app(env_home, monkeypatch, **env) -> AppTest:
    import streamlit as st

    for key, value in env.items():
        monkeypatch.setenv(key, value)
    st.cache_resource.clear()
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)


def _accounts(home):
    from core.store import Store
    from core.work.workspace import ensure_builtin_taxonomies

    home.mkdir(parents=True, exist_ok=True)
    with Store(home / "workbench.db") as db:
        ensure_builtin_taxonomies(db)
        db.add_user("root", PASSWORD, "admin", by="root")
        db.add_user("eva", PASSWORD, "expert", display_name="Szabó Éva", by="root")
        db.add_user("lib", PASSWORD, "librarian", by="root")


def _create_account(at, name, again=PASSWORD):
    """Fill the Accounts page's form (password, then ``again``) and submit it."""
    at.text_input(key="accounts.name").input(name)
    at.text_input(key="accounts.password").input(PASSWORD)
    at.text_input(key="accounts.again").input(again)
    next(b for b in at.button if b.label == "Create the account").click().run()


def _sign_in(at, name, password):
    at.text_input(key="sign_in.name").input(name)
    at.text_input(key="sign_in.password").input(password)
    at.button[0].click().run()
    return at


def test_a_network_workbench_without_accounts_serves_nothing_but_the_instruction(workspace_env, monkeypatch):
    at = _app(workspace_env, monkeypatch, WORKBENCH_SERVE="network").run()
    assert not at.exception, at.exception
    assert any("python -m core users add" in w.value for w in at.warning)
    with pytest.raises(ValueError):
        at.switch_page("pages/annotate.py")  # no other page is registered


def test_signing_in_gives_the_account_its_role_and_labels_record_the_account(workspace_env, monkeypatch):
    _accounts(workspace_env)
    at = _app(workspace_env, monkeypatch).run()
    assert not at.exception, at.exception
    assert at.text_input(key="sign_in.password") is not None
    _sign_in(at, "eva", "not her password")
    assert any("wrong account name or password" in e.value for e in at.error)
    _sign_in(at, "eva", PASSWORD)
    assert not at.exception, at.exception
    state = at.session_state["workbench.session"]
    assert (state.user, state.role, state.signed_in) == ("eva", "expert", True)
    at.switch_page("pages/import_records.py").run()
    assert any("For these roles" in c.value for c in at.caption)  # an expert does not import
    at.switch_page("pages/annotate.py").run()
    at.selectbox(key="annotate.model").select("ford-dummy").run()
    at.button(key="annotate.open").click().run()
    at.button(key="annotate.accept").click().run()
    assert not at.exception, at.exception
    from core.store import Store

    with Store(workspace_env / "workbench.db") as db:
        assert db.db.execute("SELECT annotator, role FROM annotations WHERE action = 'accept'").fetchall() == [
            ("eva", "expert")]
        db.set_role("eva", "lead", by="root")  # a role change counts on the next run, without signing in again
    at.switch_page("pages/models.py").run()
    assert at.session_state["workbench.session"].role == "lead"
    with Store(workspace_env / "workbench.db") as db:  # a disabled account is signed out on its next click
        db.set_role("root", "admin", by="root")
        db.disable_user("eva", by="root")
    at.switch_page("pages/annotate.py").run()
    assert not at.exception, at.exception
    assert any("Sign in first" in w.value for w in at.warning)
    assert not at.session_state["workbench.session"].signed_in


def test_only_an_administrator_manages_accounts_in_the_app(workspace_env, monkeypatch):
    _accounts(workspace_env)
    at = _sign_in(_app(workspace_env, monkeypatch).run(), "lib", PASSWORD)
    at.switch_page("pages/accounts.py").run()
    assert not at.exception, at.exception
    assert not [b for b in at.button if b.key == "accounts.set_role"]
    assert any("For these roles: administrator" in c.value for c in at.caption)
    at = _sign_in(_app(workspace_env, monkeypatch).run(), "root", PASSWORD)
    at.switch_page("pages/accounts.py").run()
    _create_account(at, "new.expert")
    assert not at.exception, at.exception
    from core.store import Store

    with Store(workspace_env / "workbench.db") as db:
        assert db.user("new.expert").role == "expert"
        assert db.account_events("new.expert")[0]["by"] == "root"


def test_the_first_account_is_made_in_the_app_in_single_user_mode(workspace_env, monkeypatch):
    at = _app(workspace_env, monkeypatch).run()
    at.switch_page("pages/accounts.py").run()
    assert any("single-user mode" in m.value for m in at.markdown)
    _create_account(at, "boss", again="another password")
    assert any("differ" in e.value for e in at.error)
    assert at.text_input(key="accounts.name").value == "boss"  # a failed try keeps what was typed
    _create_account(at, "boss")
    assert not at.exception, at.exception
    from core.store import Store

    with Store(workspace_env / "workbench.db") as db:
        assert db.user("boss").role == "admin"
    assert at.session_state["workbench.session"].signed_in  # signed in as the account just made


def test_the_core_refuses_what_the_person_at_work_may_not_do(store, tmp_path):
    """A store that acts as an expert (as every store a page opens does) refuses the librarians',
    leads' and administrators' actions in the core itself, whatever the page shows."""
    from core.files.taxonomy_io import read_taxonomy_file
    from core.jobs import JobParams, create_job
    from core.work.learning import TrainOptions, train_version
    from core.work.records_import import import_records
    from core.work.training_data import ExportFilter, labelled_frame
    from core.work.versions import promote

    taxonomy = store.load_taxonomy("cap")
    data = corpus("cap_nyt_headlines_sample.csv", slice(0, 30))[["id", "title", "cap_major"]].to_csv(index=False)
    store.act_as("eva", "expert")
    refused = {
        "import": lambda: import_records(store, data.encode(), "f.csv", mapping={"id": "id", "title": "title"}),
        "bulk job": lambda: create_job(store, JobParams(source="x.csv", file_name="x.csv", mapping={}, models=[],
                                                         taxonomy_id="cap"), "eva"),
        "train": lambda: train_version(store, taxonomy, tmp_path, TrainOptions("tfidf")),
        "promote": lambda: promote(store, taxonomy, "cap-tfidf", tmp_path, "eva"),
        "taxonomy": lambda: store.save_taxonomy(read_taxonomy_file(ROOT / "data" / "taxonomies" / "cap.csv",
                                                                   id="mine")),
        "backup": lambda: store.backup(tmp_path / "copy.db"),
        "accounts": lambda: store.set_role("someone", "admin", by="eva"),
    }
    for what, action in refused.items():
        with pytest.raises(PermissionDenied, match="eva"):
            action()
    assert labelled_frame(store, taxonomy, ExportFilter("cap")).empty  # everyone may export
    store.act_as("lena", "librarian")
    assert import_records(store, data.encode(), "f.csv", mapping={"id": "id", "title": "title"}).rows_imported == 30
    with store.acting_as("auto", store.SYSTEM):  # a lead's standing order (automatic retraining)
        store.require("train")


# failing closed

def test_a_store_nobody_acts_through_refuses_every_gated_action(tmp_path):
    from core.files.shipped import builtin_taxonomy
    from core.store import Store

    bare = Store(tmp_path / "bare.db")
    bare.actor = None
    before = Store.process_actor
    Store.process_actor = None
    try:
        assert not bare.may("export")
        with pytest.raises(PermissionDenied, match="nobody acts"):
            bare.save_taxonomy(builtin_taxonomy("cap"))
        with pytest.raises(PermissionDenied, match="nobody acts"):
            Store.restore(tmp_path / "x.db", tmp_path / "bare.db")
        bare.act_as("workspace", Store.SYSTEM)  # the workspace's own start-up, a worker of a queued job
        assert bare.may("restore")
    finally:
        Store.process_actor = before
        bare.close()


def test_every_command_is_in_the_list_of_what_it_may_do():
    import argparse

    from core.cli import build_parser
    from core.cli.accounts import COMMAND_ACTIONS, READ, WORKER

    commands = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)).choices
    assert set(commands) == set(COMMAND_ACTIONS)
    assert all(a in (READ, WORKER) or a in PERMISSIONS for a in COMMAND_ACTIONS.values())


# (command line, the role it needs): each run as each role; a refusal leaves nothing behind
GATED = [
    (["add-encoder", "{tmp}/enc"], {"lead", "admin"}),
    (["export-onnx", "{tmp}/src", "{tmp}/onnx"], {"lead", "admin"}),
    (["embed", "ford-tfidf", "--models", "{tmp}/models"], {"librarian", "lead", "admin"}),
    (["resume-job", "1"], {"librarian", "lead", "admin"}),
    (["train", "ford", "--kind", "tfidf", "--models", "{tmp}/models"], {"lead", "admin"}),
    (["backup", "{tmp}/copy.db"], {"lead", "admin"}),
    (["harvest", "http://127.0.0.1:9/oai"], {"librarian", "lead", "admin"}),
]


@pytest.mark.parametrize("role", ROLES)
def test_each_gated_command_as_each_role(store, tmp_path, role):
    db = store.path
    _cli(db, "users", "add", "root", "--role", "admin", "--password-stdin", stdin=PASSWORD + "\n")
    if role != "admin":
        _cli(db, "--as", "root", "users", "add", role, "--role", role, "--password-stdin", stdin=PASSWORD + "\n")
    who = "root" if role == "admin" else role
    for command, allowed_roles in GATED:
        args = [a.replace("{tmp}", str(tmp_path)) for a in command]
        code, _, err = _cli(db, "--as", who, *args)
        if role in allowed_roles:
            assert "may not" not in err, (command, role, err)
        else:
            assert code == 2 and "may not" in err, (command, role, err)
    assert not (tmp_path / "copy.db").exists() or role in ("lead", "admin")
    assert not (tmp_path / "models").exists() or role in ("librarian", "lead", "admin")


def test_a_worker_runs_only_a_queued_job(store, tmp_path):
    """``run-job N`` on a stopped job is refused: it goes on only when someone allowed resumes it."""
    import pandas as pd

    from core.jobs import JobParams, create_job, get_job, run_job

    pd.DataFrame({"id": [f"r{i}" for i in range(600)], "title": ["Soil and crops"] * 600}).to_csv(
        tmp_path / "f.csv", index=False)
    from tests.conftest import write_dummy_models

    models = write_dummy_models(tmp_path / "models")
    job_id = create_job(store, JobParams(source=str(tmp_path / "f.csv"), file_name="f.csv",
                                         mapping={"id": "id", "title": "title"},
                                         models=[str(models / "ford-dummy")],
                                         taxonomy_id="ford", chunk=200), "lib")
    run_job(store.path, job_id, stop_after_chunks=1)
    store.update_job(job_id, status="cancelled")
    code, _, err = _cli(store.path, "run-job", str(job_id))
    assert code == 2 and "resume it" in err
    assert get_job(store, job_id).status == "cancelled"
