"""Accounts of people: sign out and in, password change, admin pages, CSRF."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.fixtures.server import run_tiktimer
from tests.web.browser import PHONE, VIEWPORTS, audit, tag
from tests.web.conftest import Tab
from tests.web.flows import PASSWORD, sign_up, visit

pytestmark = pytest.mark.slow


def sign_out(page: Page) -> None:
    """The header's button; on a phone it sits in the menu."""
    menu = page.get_by_role("button", name="Menu")
    if menu.is_visible():
        menu.click()
    page.get_by_role("button", name="Sign out").click()


def sign_in(page: object, username: str, password: str = PASSWORD) -> None:
    page.get_by_label("Username or email").fill(username)  # type: ignore[attr-defined]
    page.get_by_label("Password").fill(password)  # type: ignore[attr-defined]
    page.get_by_role("button", name="Sign in").click()  # type: ignore[attr-defined]


@VIEWPORTS
def test_sign_out_sign_in_and_password_change(
    tab: Tab, server: str, viewport: dict[str, int]
) -> None:
    page, watch = tab(viewport)
    name = "walker" + tag(viewport)
    sign_up(page, watch, name)
    visit(page, watch, "/app/settings")
    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_label("New password").fill("an even better passphrase")
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_text("Saved.")).to_be_visible()  # this session survives the change
    sign_out(page)
    expect(page).to_have_url(f"{server}/app/signin")
    page.goto("/app/calendar")  # signed out: the app asks to sign in, then returns
    watch.expected.append("status of 401")
    sign_in(page, name, PASSWORD)
    expect(page.get_by_role("alert")).to_contain_text("Incorrect username or password")
    audit(page)
    sign_in(page, name, "an even better passphrase")
    expect(page).to_have_url(f"{server}/app/calendar")
    watch.assert_clean()


def test_keyboard_reaches_the_content_and_the_menu(tab: Tab, server: str) -> None:
    page, watch = tab(PHONE)
    sign_up(page, watch, "typist")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    menu = page.get_by_role("button", name="Menu")
    menu.focus()
    page.keyboard.press("Enter")
    expect(menu).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Dashboard")).to_be_focused()
    outline = page.get_by_role("link", name="Dashboard").evaluate(
        "e => getComputedStyle(e).outlineStyle"
    )
    assert outline == "solid"  # a visible focus ring


@VIEWPORTS
def test_missing_and_forbidden_pages_are_pages(
    tab: Tab, server: str, viewport: dict[str, int]
) -> None:
    page, watch = tab(viewport)
    sign_up(page, watch, "wanderer" + tag(viewport))
    watch.expected += ["status of 404", "status of 403"]
    visit(page, watch, "/app/posts/999999")
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    visit(page, watch, "/app/admin/users")  # not an admin
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    expect(page.get_by_role("link", name="Admin")).to_have_count(0)


@VIEWPORTS
def test_admin_pages(tab: Tab, server: str, viewport: dict[str, int]) -> None:
    workdir = server.workdir  # type: ignore[attr-defined]
    boss, worker = "boss" + tag(viewport), "worker" + tag(viewport)
    made = run_tiktimer(
        workdir,
        "users",
        "create",
        boss,
        "--email",
        f"{boss}@example.com",
        "--admin",
        stdin=PASSWORD + "\n",
    )
    assert made.returncode == 0, made.stderr
    page, watch = tab(viewport)
    sign_up(page, watch, worker)
    sign_out(page)
    sign_in(page, boss)
    visit(page, watch, "/app/admin/users")
    row = page.locator(f'[data-testid=user-row][data-username="{worker}"]')
    row.get_by_role("button", name="Deactivate").click()
    expect(row).to_contain_text("deactivated")
    row.get_by_role("button", name="Grant admin").click()
    expect(row).to_contain_text("admin")
    # The last-admin guard of the API holds here too: with the other admins deactivated
    # (an earlier run's boss too) and worker inactive, boss is the last active admin.
    for other in active_admins(page):
        if other != boss:
            page.locator(f'[data-username="{other}"]').get_by_role(
                "button", name="Deactivate"
            ).click()
            expect(page.locator(f'[data-username="{other}"]')).to_contain_text("deactivated")
    page.locator(f'[data-username="{boss}"]').get_by_role("button", name="Revoke admin").click()
    expect(page.get_by_test_id("admin-error")).to_be_visible()
    expect(page.locator(f'[data-username="{boss}"]')).to_contain_text("admin")
    audit(page)
    visit(page, watch, "/app/admin/audit")
    expect(page.get_by_test_id("audit-row").first).to_be_visible()
    page.get_by_label("Event").select_option("admin.user_updated")
    expect(page.get_by_test_id("audit-row").first).to_contain_text("admin.user_updated")
    audit(page)
    watch.assert_clean()


def active_admins(page: Page) -> list[str]:
    rows = (
        page.get_by_test_id("user-row")
        .filter(has=page.get_by_role("button", name="Revoke admin"))
        .filter(has=page.get_by_role("button", name="Deactivate"))
    )
    return list(rows.evaluate_all("rows => rows.map(r => r.dataset.username)"))


def test_forms_refuse_a_post_without_the_csrf_token(server: str) -> None:
    with httpx.Client(base_url=server) as client:
        client.get("/app/signup")  # sets the CSRF cookie
        forged = client.post(
            "/app/signup",
            data={"username": "mallory", "email": "m@example.com", "password": PASSWORD},
        )
        assert forged.status_code == 403
        token = client.cookies["tiktimer_csrf"]
        tampered = client.post(
            "/app/signup",
            data={
                "username": "mallory",
                "email": "m@example.com",
                "password": PASSWORD,
                "csrf_token": token[:-1] + ("0" if token[-1] != "0" else "1"),
            },
        )
        assert tampered.status_code == 403
        made = client.post(
            "/app/signup",
            data={
                "username": "mallory",
                "email": "m@example.com",
                "password": PASSWORD,
                "csrf_token": token,
            },
        )
        assert made.status_code == 303
        cookie = next(c for c in client.cookies.jar if c.name == "tiktimer_session")
        assert cookie.has_nonstandard_attr("HttpOnly")
        # The session is not a bearer token, nor does the API accept it as one.
        assert client.get("/posts/").status_code == 401
        assert (
            client.get("/posts/", headers={"Authorization": f"Bearer {cookie.value}"}).status_code
            == 401
        )
        # The root still answers API clients with JSON, browsers with the app.
        assert client.get("/", headers={"Accept": "application/json"}).json()["sandbox"] is True
        page = client.get("/", headers={"Accept": "text/html,application/xhtml+xml"})
        assert page.status_code == 303
        assert page.headers["location"] == "/app/"
