"""Deliveries to a real receiver on loopback: signed, retried with backoff, sent once."""

from __future__ import annotations

import asyncio
import json
import logging

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from tests.notifications.conftest import (
    API,
    FAST,
    Receiver,
    add_endpoint,
    deliveries,
)
from tests.webhooks.conftest import deliver, envelope, publishing_post
from tiktimer.db.dialect import Writes
from tiktimer.kit.time import utc_now
from tiktimer.models import NotificationEndpoint
from tiktimer.notifications import queue
from tiktimer.notifications.delivery import MAX_ATTEMPTS, Notifier

PUBLISH_ID = "v_pub_file~v2-1.77"


async def send_test(client: httpx.AsyncClient, headers: dict[str, str], endpoint: int) -> int:
    response = await client.post(f"{API}/endpoints/{endpoint}/test", headers=headers)
    assert response.status_code == 202, response.text
    event_id: int = response.json()["event_id"]
    return event_id


async def test_a_published_post_reaches_the_receiver_signed(
    client: httpx.AsyncClient,
    app: FastAPI,
    alice: dict[str, str],
    receiver: Receiver,
    notifier: Notifier,
) -> None:
    created = await add_endpoint(client, alice, receiver.url, events=["post.published"])
    receiver.secret = created["secret"]
    post_id = await publishing_post(client, app, alice, PUBLISH_ID)
    body = envelope("post.publish.complete", {"publish_id": PUBLISH_ID})
    assert (await deliver(client, body)).status_code == 200
    assert await notifier.run_once() == 1
    [got] = receiver.received
    assert got.signed
    assert got.headers["TikTimer-Event"] == "post.published"
    document = json.loads(got.body)
    assert (document["type"], document["data"]["post_id"]) == ("post.published", post_id)
    [logged] = await deliveries(client, alice)
    assert (logged["status"], logged["last_status_code"], logged["attempts"]) == (
        "delivered",
        200,
        1,
    )
    assert logged["event_type"] == "post.published"
    assert await notifier.run_once() == 0
    assert len(receiver.received) == 1


async def test_only_the_chosen_events_are_sent(
    client: httpx.AsyncClient,
    app: FastAPI,
    alice: dict[str, str],
    receiver: Receiver,
    notifier: Notifier,
) -> None:
    await add_endpoint(client, alice, receiver.url, events=["post.failed"])
    await publishing_post(client, app, alice, PUBLISH_ID)
    await deliver(client, envelope("post.publish.complete", {"publish_id": PUBLISH_ID}))
    assert await notifier.run_once() == 0
    assert receiver.received == []
    assert await deliveries(client, alice) == []


async def test_a_receiver_that_is_down_gets_it_once_when_back(
    client: httpx.AsyncClient, alice: dict[str, str], notifier: Notifier
) -> None:
    down = Receiver()  # nothing listens on its port yet
    created = await add_endpoint(client, alice, down.url)
    down.secret = created["secret"]
    await send_test(client, alice, created["id"])
    assert await notifier.run_once() == 1
    [logged] = await deliveries(client, alice)
    assert (logged["status"], logged["attempts"], logged["last_status_code"]) == (
        "pending",
        1,
        None,
    )
    assert logged["last_error"] == "could not connect to the endpoint"
    assert logged["next_attempt_at"] is not None
    await down.start()
    try:
        await asyncio.sleep(FAST.maximum * 2)
        assert await notifier.run_once() == 1
        await asyncio.sleep(FAST.maximum * 2)
        assert await notifier.run_once() == 0
    finally:
        await down.stop()
    [got] = down.received
    assert got.signed
    assert json.loads(got.body)["type"] == "test"
    [logged] = await deliveries(client, alice)
    assert (logged["status"], logged["attempts"], logged["last_status_code"]) == (
        "delivered",
        2,
        200,
    )
    assert logged["next_attempt_at"] is None


async def test_error_answers_are_retried_then_given_up(
    client: httpx.AsyncClient, alice: dict[str, str], receiver: Receiver, notifier: Notifier
) -> None:
    created = await add_endpoint(client, alice, receiver.url)
    receiver.secret, receiver.answer = created["secret"], 503
    await send_test(client, alice, created["id"])
    for _ in range(MAX_ATTEMPTS + 2):
        await notifier.run_once()
        await asyncio.sleep(FAST.maximum * 1.5)
    assert len(receiver.received) == MAX_ATTEMPTS
    assert all(got.signed for got in receiver.received)
    [logged] = await deliveries(client, alice)
    assert (logged["status"], logged["attempts"], logged["last_status_code"]) == (
        "failed",
        MAX_ATTEMPTS,
        503,
    )
    assert logged["last_error"] == "the endpoint answered HTTP 503"


async def test_two_dispatchers_never_send_one_delivery_twice(
    client: httpx.AsyncClient, app: FastAPI, alice: dict[str, str], receiver: Receiver
) -> None:
    services = app.state.services
    policy = services.settings.server.fetch_policy
    workers = [
        Notifier(Writes(services.engine), services.cipher, policy, retries=FAST, worker_id=name)
        for name in ("one", "two")
    ]
    first = await add_endpoint(client, alice, receiver.url)
    second = await add_endpoint(client, alice, receiver.url)
    receiver.secret, receiver.also = first["secret"], {second["secret"]}
    for _ in range(15):
        await send_test(client, alice, first["id"])
        await send_test(client, alice, second["id"])
    for _ in range(10):
        await asyncio.gather(*(worker.run_once() for worker in workers))
    sent = [got.headers["TikTimer-Delivery"] for got in receiver.received]
    assert len(sent) == 30
    assert len(set(sent)) == 30
    assert all(got.signed for got in receiver.received)
    logged = await deliveries(client, alice)
    assert len(logged) == 30
    assert {(row["status"], row["attempts"]) for row in logged} == {("delivered", 1)}
    assert {row["endpoint_id"] for row in logged} == {first["id"], second["id"]}


async def test_no_secret_in_logs_responses_or_the_database(
    client: httpx.AsyncClient,
    app: FastAPI,
    alice: dict[str, str],
    receiver: Receiver,
    notifier: Notifier,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="tiktimer")
    created = await add_endpoint(client, alice, receiver.url)
    secret = receiver.secret = created["secret"]
    assert secret.startswith("whsec_")
    assert len(secret) > 40
    await send_test(client, alice, created["id"])
    receiver.answer = 500
    await notifier.run_once()
    listing = await client.get(f"{API}/endpoints", headers=alice)
    log_page = await client.get(f"{API}/deliveries", headers=alice)
    # Our own log (httpx's and the drivers' are quiet by `tiktimer.logging`'s setup).
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("tiktimer"))
    assert "notifications.delivery" in ours
    for text in (listing.text, log_page.text, ours):
        assert secret not in text
    assert "secret" not in listing.json()[0]
    assert "do-not-log-me" not in ours  # the URL's token stays out of the log
    async with app.state.services.sessionmaker() as session:
        stored = await session.scalar(select(NotificationEndpoint.secret_encrypted))
    assert stored is not None
    assert secret not in stored
    assert app.state.services.cipher.decrypt(stored) == secret


async def test_a_receiver_that_stalls_is_cut_off_and_retried(
    client: httpx.AsyncClient, app: FastAPI, alice: dict[str, str], receiver: Receiver
) -> None:
    services = app.state.services
    policy = services.settings.server.fetch_policy
    impatient = Notifier(
        Writes(services.engine), services.cipher, policy, retries=FAST, total_seconds=0.2
    )
    created = await add_endpoint(client, alice, receiver.url)
    receiver.secret, receiver.stall = created["secret"], 5.0
    await send_test(client, alice, created["id"])
    assert await impatient.run_once() == 1
    [logged] = await deliveries(client, alice)
    assert (logged["status"], logged["attempts"]) == ("pending", 1)
    assert logged["last_error"] == "no answer within 0.2 s"


async def test_old_events_are_pruned_once_nothing_is_left_to_send(
    client: httpx.AsyncClient,
    app: FastAPI,
    alice: dict[str, str],
    receiver: Receiver,
    notifier: Notifier,
) -> None:
    sent = await add_endpoint(client, alice, receiver.url)
    down = await add_endpoint(client, alice, Receiver().url)
    receiver.secret = sent["secret"]
    await send_test(client, alice, sent["id"])
    await send_test(client, alice, down["id"])
    assert await notifier.run_once() == 2
    writes = Writes(app.state.services.engine)
    assert await queue.prune(writes, utc_now()) == 1  # the pending retry's event stays
    [left] = await deliveries(client, alice)
    assert (left["endpoint_id"], left["status"]) == (down["id"], "pending")
