"""The media API on every database × storage backend (local disk, and S3 served by moto).

The app here differs from the shared one in three settings: a 2 MiB upload limit (so limits
are cheap to exceed), a 1.5 s duration limit (so the factory's 2 s clip is "too long") and
the storage backend. `client` (from tests/fixtures/app.py) talks to this app and empties
the tables after each test; `stored` empties storage and the upload area before it.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from fastapi import APIRouter, FastAPI, Request
from moto.server import ThreadedMotoServer

from tests.fixtures.app import make_settings
from tests.fixtures.databases import DatabaseUnderTest
from tests.fixtures.lifespan import lifespan_of
from tests.media_api.helpers import Stored
from tests.media_factory import MediaSamples
from tiktimer.app import create_app
from tiktimer.auth.dependencies import CurrentUser
from tiktimer.db.session import SessionDep
from tiktimer.media.service import receive_upload
from tiktimer.storage import S3Storage

MAX_UPLOAD_MB = 2
MAX_DURATION_SEC = 1.5
S3_REGION = "us-east-1"

# A route as another endpoint (the original's `POST /api/v1/tiktok/posts/`) would use the
# streaming upload path: a `video` file plus small text fields.
receive_router = APIRouter()


@receive_router.post("/test/receive-video")
async def receive_video(request: Request, user: CurrentUser, session: SessionDep) -> Any:
    received = await receive_upload(request, session, user.id, "video", max_field_bytes=1024)
    return {
        "media": received.media.model_dump(mode="json"),
        "created": received.created,
        "fields": received.fields,
    }


@pytest.fixture(scope="session")
def media_samples(tmp_path_factory: pytest.TempPathFactory) -> MediaSamples:
    return MediaSamples(tmp_path_factory.mktemp("media-samples"))


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    with pytest.MonkeyPatch.context() as env:
        # boto3's default credential chain, pinned so a developer's ~/.aws never leaks in.
        env.setenv("AWS_ACCESS_KEY_ID", "testing")
        env.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        env.setenv("AWS_CONFIG_FILE", "/nonexistent")
        env.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        env.setenv("AWS_EC2_METADATA_DISABLED", "true")
        env.delenv("AWS_PROFILE", raising=False)
        env.setenv("NO_PROXY", "127.0.0.1")
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
        server.stop()


@pytest.fixture(scope="session", params=["local", "s3"])
def storage_backend(request: pytest.FixtureRequest) -> str:
    backend: str = request.param
    return backend


@pytest.fixture(scope="session")
async def app(
    database: DatabaseUnderTest,
    storage_backend: str,
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
) -> AsyncIterator[FastAPI]:
    overrides: dict[str, Any] = {
        "max_upload_mb": MAX_UPLOAD_MB,
        "media_max_duration_sec": MAX_DURATION_SEC,
    }
    if storage_backend == "s3":
        endpoint: str = request.getfixturevalue("s3_endpoint")
        bucket = f"media-{uuid.uuid4().hex[:12]}"
        client = boto3.client("s3", endpoint_url=endpoint, region_name=S3_REGION)
        client.create_bucket(Bucket=bucket)
        client.close()
        overrides |= {
            "storage": "s3",
            "s3_bucket": bucket,
            "s3_prefix": "media",
            "s3_endpoint_url": endpoint,
            "s3_region": S3_REGION,
        }
    settings = make_settings(database.url, tmp_path_factory.mktemp("media-data"), **overrides)
    application = create_app(settings)
    application.include_router(receive_router)
    async with lifespan_of(application):
        yield application


@pytest.fixture
def stored(app: FastAPI) -> Stored:
    """What the server keeps, starting from empty storage and an empty upload area."""
    _empty_media(app)
    return Stored(app)


def _empty_media(app: FastAPI) -> None:
    storage = app.state.services.storage
    if isinstance(storage, S3Storage):
        listed = storage.client.list_objects_v2(Bucket=storage.bucket).get("Contents", [])
        for item in listed:
            storage.client.delete_object(Bucket=storage.bucket, Key=item["Key"])
    else:
        shutil.rmtree(app.state.services.settings.storage.media_dir, ignore_errors=True)
    for directory in (
        app.state.services.upload_sessions.sessions_dir,
        app.state.services.upload_sessions.incoming_dir,
    ):
        for path in Path(directory).iterdir():
            path.unlink()
