"""The import page: upload a CSV, see the dry run's problems by row and column, import."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.web.browser import DESKTOP, audit
from tests.web.conftest import Tab
from tests.web.flows import PASSWORD, local_minutes_ahead, ready_user, schedule, visit

pytestmark = pytest.mark.slow


def test_check_a_file_see_its_problems_and_import_the_good_rows(
    tab: Tab, server: str, tmp_path: Path
) -> None:
    page, watch = tab(DESKTOP)
    video = ready_user(page, watch, "importer", tmp_path)
    schedule(page, video, "Puts the video in the library", local_minutes_ahead(600))
    when = local_minutes_ahead(60 * 24 * 3).strftime("%Y-%m-%dT%H:%M")
    plan = tmp_path / "plan.csv"
    plan.write_text(
        "caption,time,account,media,privacy\n"
        f"From the sheet,{when},crimporter,{video.name},PUBLIC_TO_EVERYONE\n"
        f"<b>Broken</b>,someday,crimporter,missing.mp4,PUBLIC_TO_EVERYONE\n",
        encoding="utf-8-sig",
    )
    visit(page, watch, "/app/import")
    page.get_by_label("CSV file", exact=True).set_input_files(str(plan))
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_test_id("import-status")).to_have_text(
        "Checked: 0 created, 0 already imported, 1 with problems."
    )
    problems = page.get_by_test_id("import-problems").locator("tbody tr")
    expect(problems).to_have_count(2)
    for index, column, words in ((0, "time", "'someday' is not a time"), (1, "media", "missing")):
        expect(problems.nth(index).locator("th")).to_have_text("3")
        expect(problems.nth(index).locator("td").nth(0)).to_have_text(column)
        expect(problems.nth(index).locator("td").nth(1)).to_contain_text(words)
    expect(page.get_by_test_id("import-rows")).to_contain_text("Row 2: valid")
    audit(page)
    page.get_by_label("Import the rows that are right").check()
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_test_id("import-status")).to_have_text(
        "Imported: 1 created, 0 already imported, 1 with problems."
    )
    page.get_by_test_id("import-rows").get_by_role("link").click()
    expect(page.get_by_role("heading", name="From the sheet")).to_be_visible()
    expect(page.locator(".status-line")).to_contain_text("Goes out")
    visit(page, watch, "/app/import")
    page.get_by_label("CSV file", exact=True).set_input_files(str(plan))
    watch.expected.append("status of 422")  # all or nothing with row 3 still bad
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_test_id("import-rows")).to_contain_text("Row 2: already imported")
    expect(page.get_by_test_id("import-status")).to_contain_text("Nothing imported")
    watch.assert_clean()


def test_the_import_form_works_without_scripts(
    browser: Browser, server: str, tmp_path: Path
) -> None:
    """The same form posted to /app/import: the report comes back as the page."""
    context = browser.new_context(java_script_enabled=False, base_url=server)
    try:
        page = context.new_page()
        page.goto("/app/signup")
        page.get_by_label("Username").fill("plainform")
        page.get_by_label("Email").fill("plainform@example.com")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Create account").click()
        expect(page.get_by_role("heading", name="Hello, plainform")).to_be_visible()
        when = local_minutes_ahead(60 * 24 * 4).strftime("%Y-%m-%dT%H:%M")
        plan = tmp_path / "drafts.csv"
        plan.write_text(f"caption,time,draft\nA draft,{when},yes\nNo time,later,yes\n")
        page.goto("/app/import")
        page.get_by_label("CSV file", exact=True).set_input_files(str(plan))
        page.get_by_role("button", name="Check the file").click()
        expect(page.get_by_test_id("import-status")).to_have_text(
            "Checked: 0 created, 0 already imported, 1 with problems."
        )
        expect(page.get_by_test_id("import-problems")).to_contain_text("'later' is not a time")
        page.get_by_label("CSV file", exact=True).set_input_files(str(plan))
        page.get_by_label("Import the rows that are right").check()
        page.get_by_role("button", name="Import").click()
        expect(page.get_by_test_id("import-status")).to_have_text(
            "Imported: 1 created, 0 already imported, 1 with problems."
        )
        expect(page.get_by_test_id("import-rows")).to_contain_text("Row 2: created")
    finally:
        context.close()
