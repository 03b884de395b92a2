"""Notifications in a real browser: add a webhook to a receiver on loopback, send a test,
watch the delivery log, publish a post and find it in the in-app list, then remove it."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.fixtures.server import clean_env, running_server
from tests.web.browser import DESKTOP, audit
from tests.web.conftest import Server, Tab
from tests.web.flows import ready_user, upload, visit
from tiktimer.notifications.signing import HEADER, matches

pytestmark = pytest.mark.slow


class Receiver(ThreadingHTTPServer):
    """A webhook receiver in a thread: keeps each delivery's body and signature."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.got: list[tuple[str, bytes]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hook"

    def signed_with(self, secret: str) -> list[dict[str, object]]:
        return [json.loads(body) for header, body in self.got if matches(header, body, secret)]


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        assert isinstance(self.server, Receiver)
        self.server.got.append((self.headers.get(HEADER, ""), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    thread = threading.Thread(target=found.serve_forever, daemon=True)
    thread.start()
    yield found
    found.shutdown()
    found.server_close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The web tests' server, allowed to deliver webhooks to loopback."""
    workdir: Path = tmp_path_factory.mktemp("web-notify")
    env = clean_env(
        TIKTIMER_SANDBOX="true",
        TIKTIMER_RATE_LIMITS="false",
        TIKTIMER_SCHEDULER_POLL_SECONDS="0.5",
        TIKTIMER_STATUS_POLL_FIRST_SECONDS="0.5",
        TIKTIMER_FETCH_ALLOW="127.0.0.1",
    )
    with running_server(workdir, env=env, timeout=60) as base:
        found = Server(base)
        found.workdir = workdir
        yield found


def add_endpoint(page: Page, url: str) -> str:
    """Through the settings page; returns the secret it shows once."""
    page.get_by_label("URL").fill(url)
    page.get_by_label("Description (optional)").fill("Loopback receiver")
    page.get_by_role("button", name="Add endpoint").click()
    secret = page.get_by_test_id("new-secret").locator("code.secret")
    expect(secret).to_contain_text("whsec_")
    audit(page)
    return secret.inner_text().strip()


def wait_for_delivery(page: Page, *texts: str) -> None:
    """Reload the log until its newest row says all `texts` (the worker polls every 0.5 s)."""
    newest = page.get_by_test_id("delivery").first
    for _ in range(60):
        page.reload()
        if newest.count() and all(text in newest.inner_text() for text in texts):
            return
        page.wait_for_timeout(500)
    for text in texts:
        expect(newest).to_contain_text(text)


def test_webhooks_and_the_notification_list(
    tab: Tab, server: str, tmp_path: Path, receiver: Receiver
) -> None:
    page, watch = tab(DESKTOP)
    video = ready_user(page, watch, "notified", tmp_path)
    visit(page, watch, "/app/settings")
    page.get_by_role("link", name="Webhooks and notifications").click()
    visit(page, watch, "/app/settings/notifications")
    page.get_by_label("URL").fill("https://10.0.0.1/hook")
    watch.expected.append("status of 422")  # the refused URL's page
    page.get_by_role("button", name="Add endpoint").click()
    expect(page.locator("#err-url")).to_contain_text("private address")
    audit(page)
    secret = add_endpoint(page, receiver.url)
    page.get_by_role("button", name="Send test").click()
    expect(page.get_by_text("Test queued")).to_be_visible()
    wait_for_delivery(page, "HTTP 204")
    audit(page)
    assert [event["type"] for event in receiver.signed_with(secret)] == ["test"]
    assert secret not in page.content()  # shown once, never again

    page.goto("/app/compose")
    upload(page, video)
    page.get_by_label("Caption").fill("Tell me when it is out")
    page.get_by_label("Publish now").check()
    page.get_by_label("Who can view this video").select_option("MUTUAL_FOLLOW_FRIENDS")
    page.get_by_role("button", name="Publish now").click()
    expect(page.locator(".status-line")).to_contain_text("Published", timeout=60_000)

    page.get_by_role("link", name="Notifications", exact=True).click()
    expect(page.get_by_test_id("notification").first).to_contain_text("Post published")
    audit(page)
    page.get_by_role("button", name="Mark all read").click()
    expect(page.locator(".notification.unread")).to_have_count(0)

    visit(page, watch, "/app/settings/notifications")
    wait_for_delivery(page, "Post published", "HTTP 204")
    types = [event["type"] for event in receiver.signed_with(secret)]
    assert types == ["test", "post.published"]
    endpoint = page.get_by_test_id("endpoint").first
    endpoint.get_by_label("Post published").uncheck()
    endpoint.get_by_role("button", name="Save events").click()
    expect(page.get_by_text("Events saved.")).to_be_visible()
    expect(page.get_by_test_id("endpoint").first.get_by_label("Post published")).not_to_be_checked()
    page.get_by_test_id("endpoint").first.get_by_role("button", name="Remove").click()
    expect(page.get_by_text("Endpoint removed.")).to_be_visible()
    expect(page.get_by_test_id("endpoint")).to_have_count(0)
    audit(page)
    watch.assert_clean()
