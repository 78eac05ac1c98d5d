"""Browser journey of fine-tuning, in Chromium: a lead picks "finetune" on the Models page, watches
the per-epoch curve, the worker is killed and the lead resumes it from its checkpoint, compares the
new version with the model in use, promotes it, and the expert's next suggestions come from it."""

import json
import os
import shutil
import signal
import time

import pandas as pd
import pytest

from tests.conftest import default_model, shared_file
from tests.test_browser import open_app, start_server
from tests.test_browser_loop import choose, go_to
from tests.test_browser_loop import hungarian_card as language_card

pytestmark = [pytest.mark.slow, pytest.mark.browser]
CAP = "CAP policy topics (major topics and subtopics)"


@pytest.fixture(scope="module")
def finetune_server(tmp_path_factory):
    """A workspace without the demo, the default CAP TF-IDF model in use, and 480 US bill titles
    imported with their CAP major topics."""
    from core.store import Store
    from core.work.records_import import import_records
    from core.work.workspace import ensure_builtin_taxonomies

    home = tmp_path_factory.mktemp("finetune-home")
    models = home / "models"
    models.mkdir()
    shutil.copytree(default_model("cap-tfidf"), models / "cap-tfidf", copy_function=os.link)
    bills = pd.read_csv(shared_file("corpora", "cap_us_congress_bill_titles.csv"), dtype=str, keep_default_na=False)
    bills = bills.groupby("cap_major", group_keys=False).head(30).head(480)
    bills = bills.assign(id=[f"bill-{i}" for i in range(len(bills))], language="en")
    with Store(home / "workbench.db") as db:
        ensure_builtin_taxonomies(db)
        import_records(db, bills.to_csv(index=False).encode(), "bills.csv", label_taxonomy=db.load_taxonomy("cap"),
                       mapping={"id": "id", "title": "text", "label": "cap_major", "language": "language"})
    for url in start_server(home, WORKBENCH_DEMO="0", WORKBENCH_MODELS=str(models)):
        yield url, home


def _last_job(home):
    from core.jobs.training import training_jobs
    from core.store import Store

    with Store(home / "workbench.db") as db:
        job = training_jobs(db)[0]
        return job, json.loads(db.job_row(job.id)["checkpoint"] or "{}")


def test_a_lead_fine_tunes_kills_resumes_and_promotes(finetune_server, browser, output_dir):
    url, home = finetune_server
    page = open_app(browser, url, user="Vezető Vera", role="Team lead", timeout=60000)
    idle = page.locator("[data-testid='stApp'][data-test-script-state='notRunning']")
    choose(page, page.get_by_role("combobox", name="Active taxonomy"), CAP)
    idle.wait_for()
    try:
        go_to(page, "Models")
        idle.wait_for()
        page.locator(".st-key-versions-imported label").click()
        idle.wait_for()
        from core.models import kinds

        choose(page, page.locator(".st-key-versions-kind").get_by_role("combobox"),
               f"finetune: {kinds.get('finetune').help}")
        idle.wait_for()
        for key, value in (("epochs", "4"), ("max_length", "32")):  # time enough to kill it after the first
            box = page.locator(f".st-key-versions-recipe-finetune-{key} input")
            box.fill(value)
            box.press("Enter")
            idle.wait_for()
        page.locator(".st-key-versions-train button").click()

        # the running job draws its curve after the first epoch
        page.get_by_text("is the one kept (best validation F1)").wait_for(timeout=300_000)
        page.screenshot(path=str(output_dir / "finetune-1-curve.png"), full_page=True)

        # the worker dies (a killed process, a closed laptop): the job offers to go on from its checkpoint
        job, checkpoint = _last_job(home)
        assert job.status == "running" and checkpoint.get("pid"), (job.status, checkpoint)
        os.kill(checkpoint["pid"], signal.SIGKILL)
        resume = page.get_by_role("button", name="Resume from epoch")
        resume.wait_for(timeout=60_000)
        page.screenshot(path=str(output_dir / "finetune-2-killed.png"), full_page=True)
        for _ in range(3):  # a click that lands while the live panel redraws is lost: click again
            resume.click()
            deadline = time.time() + 20
            while time.time() < deadline and _last_job(home)[1].get("pid") == checkpoint["pid"]:
                time.sleep(0.5)
            if _last_job(home)[1].get("pid") != checkpoint["pid"]:
                break
            page.locator("[data-testid='stApp'][data-test-script-state='notRunning']").wait_for()
        from core.jobs.training import resume_training, spent_seconds
        from core.store import Store

        with Store(home / "workbench.db") as db:  # resumed once: a second resume is refused while it runs
            before = spent_seconds(db, job.id)
            assert before > 0
            with pytest.raises(Exception, match="still"):
                resume_training(db, job.id)
        page.get_by_text("cap-v1-finetune in").first.wait_for(timeout=300_000)  # the finished job's line
        line = page.get_by_text("cap-v1-finetune in").first.inner_text()
        assert "evaluation records" in line, line
        page.screenshot(path=str(output_dir / "finetune-3-trained.png"), full_page=True)

        # compared with the model in use, then promoted
        page.locator(".st-key-versions-target").get_by_role("combobox").click()
        page.keyboard.type("cap-v1-finetune")
        page.keyboard.press("Enter")
        idle.wait_for()
        page.get_by_text("cap-v1-finetune: micro F1").wait_for()
        verdict = page.get_by_text("Against the model in use (cap-tfidf)").inner_text()
        assert "Better" in verdict or "Not enough evidence" in verdict or "Worse" in verdict, verdict
        page.locator(".st-key-versions-accept_drops label").click()
        idle.wait_for()
        page.locator(".st-key-versions-promote button").click()
        page.get_by_text("is the model in use for").wait_for()

        # the expert's next card comes from the fine-tuned version
        heading, _ = language_card(page)  # the imported labels wait in the By-language queue
        assert "cap-v1-finetune" in heading, heading
        page.screenshot(path=str(output_dir / "finetune-4-suggestions.png"))
    finally:
        page.screenshot(path=str(output_dir / "finetune-last.png"), full_page=True)
        page.close()
    job, _ = _last_job(home)
    assert job.status == "done" and job.result["folder"] == "cap-v1-finetune"
    assert job.result["seconds"] >= before + job.result["run_seconds"]  # the duration counts both runs
    assert not (home / "models" / ".checkpoints" / f"train-{job.id}").exists()  # complete: nothing to resume
    manifest = json.loads((home / "models" / "cap-v1-finetune" / "workbench.json").read_text(encoding="utf-8"))
    assert manifest["training"]["resumed_from_epoch"] >= 2, manifest["training"]
    epochs = [e["epoch"] for e in manifest["training"]["curve"]]
    assert epochs == list(range(1, len(epochs) + 1)) and len(epochs) >= 3  # early stopping may end before 4
