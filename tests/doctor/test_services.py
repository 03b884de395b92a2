"""The doctor against real S3 (moto's server), a real Redis and a PostgreSQL whose clock is off.

moto and redis-server listen on loopback; the clock skew comes from a `now()` that the
test database's search path puts before `pg_catalog`'s, ten seconds ahead.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator

import boto3
import pytest
from moto.server import ThreadedMotoServer

from tests.doctor.conftest import Installation, failures, results
from tests.fixtures.server import free_port
from tiktimer.db.engine import create_engine

pytestmark = pytest.mark.slow
AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_CONFIG_FILE": "/nonexistent",
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
    "AWS_EC2_METADATA_DISABLED": "true",
    "NO_PROXY": "127.0.0.1",
}


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def test_s3_storage_probe(installation: Installation, s3_endpoint: str) -> None:
    bucket = f"doctor-{uuid.uuid4().hex[:12]}"
    s3 = {
        **AWS,
        "TIKTIMER_STORAGE": "s3",
        "TIKTIMER_S3_BUCKET": bucket,
        "TIKTIMER_S3_ENDPOINT_URL": s3_endpoint,
        "TIKTIMER_S3_REGION": "us-east-1",
        "TIKTIMER_S3_PREFIX": "media/",
    }
    code, report = installation.doctor(**s3)
    assert code == 1  # no such bucket yet
    [problem] = failures(report)
    assert (problem["check"], problem["message"].startswith(f"s3://{bucket}/")) == ("storage", True)
    assert "TIKTIMER_S3_BUCKET" in problem["fix"]
    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    client.create_bucket(Bucket=bucket)
    code, report = installation.doctor(**s3)
    assert code == 0, report
    assert "write, read and delete work" in results(report, "storage")[0]["message"]
    assert client.list_objects_v2(Bucket=bucket).get("Contents", []) == []  # probe removed


@pytest.fixture
def redis_port() -> Iterator[int]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    port = free_port()
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    try:
        _wait_for_port(port)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


def _wait_for_port(port: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    pytest.fail(f"redis-server did not listen on {port}")


def test_redis_when_configured(installation: Installation, redis_port: int) -> None:
    code, report = installation.doctor(TIKTIMER_REDIS_URL=f"redis://127.0.0.1:{redis_port}/0")
    assert code == 0, report
    assert results(report, "redis")[0]["message"] == "Redis answers PING"
    closed = free_port()
    code, report = installation.doctor(TIKTIMER_REDIS_URL=f"redis://127.0.0.1:{closed}/0")
    assert code == 1
    [problem] = failures(report)
    assert problem["check"] == "redis"
    assert "TIKTIMER_REDIS_URL" in problem["fix"]


def test_clock_skew_against_postgresql(installation: Installation) -> None:
    code, report = installation.doctor()
    assert results(report, "clock")[0]["status"] == "ok"
    if installation.backend == "sqlite":
        assert "keeps this machine's clock" in results(report, "clock")[0]["message"]
        return
    asyncio.run(_skew(installation.url, seconds=10))
    code, report = installation.doctor()
    assert code == 0  # a warning
    [clock] = results(report, "clock")
    assert clock["status"] == "warn"
    assert clock["message"].startswith("database clock +1")  # ~ +10 s
    assert "NTP" in clock["fix"]


async def _skew(url: str, *, seconds: int) -> None:
    """A `now()` found before pg_catalog's in this database's search path, `seconds` ahead."""
    engine = create_engine(url, one_off=True)
    async with engine.begin() as connection:
        name = (await connection.exec_driver_sql("SELECT current_database()")).scalar_one()
        await connection.exec_driver_sql("CREATE SCHEMA skewed")
        await connection.exec_driver_sql(
            "CREATE FUNCTION skewed.now() RETURNS timestamptz LANGUAGE sql "
            f"AS $$ SELECT pg_catalog.now() + interval '{seconds} seconds' $$"
        )
        await connection.exec_driver_sql(
            f'ALTER DATABASE "{name}" SET search_path = skewed, pg_catalog, public'
        )
