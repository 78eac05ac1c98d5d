"""Browser journey, in Chromium: a Hungarian collection arrives without labels in a workspace
with the shipped defaults; its cards come from the cross-lingual default, which says so, and
nothing is machine-accepted for Hungarian."""


import pandas as pd
import pytest

from tests.conftest import linked_models, shared_file
from tests.test_browser import open_app, start_server
from tests.test_browser_loop import CAP, choose, hungarian_card

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture(scope="module")
def languages_server(tmp_path_factory):
    """The English default and the cross-lingual default, and 40 Hungarian speeches without labels."""
    from core.store import Store
    from core.work.records_import import import_records
    from core.work.workspace import ensure_builtin_taxonomies

    home = tmp_path_factory.mktemp("languages-home")
    models = linked_models(home / "models", "cap-ensemble", "cap-multilingual", encoders=True)
    speeches = pd.read_csv(shared_file("corpora", "cap_hu_pre_agenda_speeches_sample.csv"), dtype=str,
                           keep_default_na=False).head(40)
    speeches["title"] = speeches["agenda_item_title"].str.strip('"')
    speeches["text"] = speeches["text"].str[:1500]
    with Store(home / "workbench.db") as db:
        ensure_builtin_taxonomies(db)
        import_records(db, speeches[["text_id", "title", "text"]].to_csv(index=False).encode(), "beszedek.csv",
                       mapping={"id": "text_id", "title": "title", "abstract": "text"}, default_language="hu")
    for url in start_server(home, WORKBENCH_DEMO="0", WORKBENCH_MODELS=str(models)):
        yield url, home


def test_a_hungarian_card_on_day_one_comes_from_the_cross_lingual_default(languages_server, browser, output_dir):
    url, _ = languages_server
    page = open_app(browser, url, user="Kovács Klára", role="Domain expert", timeout=60000)
    idle = page.locator("[data-testid='stApp'][data-test-script-state='notRunning']")
    choose(page, page.get_by_role("combobox", name="Active taxonomy"), CAP)
    idle.wait_for()
    try:
        heading, captions = hungarian_card(page)
        assert "cap-multilingual" in heading and "cross-lingual" in heading and "low confidence" in heading, heading
        assert "Cross-lingual: cap-multilingual reads Hungarian through a multilingual encoder" in captions, captions
        assert "not measured on Hungarian records" in captions
        page.screenshot(path=str(output_dir / "languages-day-one.png"), full_page=True)
    finally:
        page.close()
