"""The S3 endpoint goes down: uploads answer 503 with a clear message and leave nothing.

The app runs against a real S3 server on loopback (moto in server mode) reached through a
TCP proxy that the test cuts. While it is cut, a direct upload, the `complete` of a
resumable upload and a download answer 503 JSON; no media row, no object, no multipart
upload and no temporary file is left, and the resumable upload can still be completed once
S3 is back.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import boto3
import httpx
import pytest
from fastapi import FastAPI
from moto.server import ThreadedMotoServer

from tests.faults.rig import ThreadedProxy
from tests.fixtures.app import TEST_BASE_URL, make_settings
from tests.fixtures.databases import DatabaseUnderTest
from tests.fixtures.lifespan import lifespan_of
from tests.fixtures.users import user_headers
from tests.media_factory import MediaSamples
from tiktimer.app import create_app

REGION = "us-east-1"
TUS = {"Tus-Resumable": "1.0.0"}


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    with pytest.MonkeyPatch.context() as env:
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


@pytest.fixture
def s3_proxy(moto_endpoint: str) -> Iterator[ThreadedProxy]:
    port = int(moto_endpoint.rsplit(":", 1)[1])
    proxy = ThreadedProxy("127.0.0.1", port)
    proxy.start()
    yield proxy
    proxy.stop()


@pytest.fixture
async def s3_app(
    database: DatabaseUnderTest, moto_endpoint: str, s3_proxy: ThreadedProxy, tmp_path: Path
) -> AsyncIterator[FastAPI]:
    bucket = f"faults-{uuid.uuid4().hex[:12]}"
    s3 = boto3.client("s3", endpoint_url=moto_endpoint, region_name=REGION)
    s3.create_bucket(Bucket=bucket)
    s3.close()
    settings = make_settings(
        database.url,
        tmp_path / "data",
        storage="s3",
        s3_bucket=bucket,
        s3_endpoint_url=f"http://127.0.0.1:{s3_proxy.port}",
        s3_region=REGION,
        max_upload_mb=20,
    )
    application = create_app(settings)
    async with lifespan_of(application):
        yield application


def bucket_contents(app: FastAPI, moto_endpoint: str) -> list[str]:
    """Objects and pending multipart uploads, asked of S3 directly (not through the proxy)."""
    bucket = app.state.services.settings.storage.s3_bucket
    s3 = boto3.client("s3", endpoint_url=moto_endpoint, region_name=REGION)
    try:
        objects = s3.list_objects_v2(Bucket=bucket).get("Contents", [])
        uploads = s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
        return [o["Key"] for o in objects] + [f"upload:{u['Key']}" for u in uploads]
    finally:
        s3.close()


def temporary_files(app: FastAPI) -> list[str]:
    upload_dir = Path(app.state.services.settings.storage.upload_dir)
    return sorted(str(p.relative_to(upload_dir)) for p in upload_dir.rglob("*") if p.is_file())


def assert_storage_503(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.headers["retry-after"] == "30"
    assert response.json() == {
        "detail": "Media storage is unavailable right now; nothing was saved, try again later"
    }


@pytest.mark.slow
@pytest.mark.usefixtures("client")  # empties the tables afterwards
async def test_uploads_answer_503_and_leave_nothing_while_s3_is_down(
    s3_app: FastAPI,
    s3_proxy: ThreadedProxy,
    moto_endpoint: str,
    tmp_path: Path,
) -> None:
    (tmp_path / "samples").mkdir()
    samples = MediaSamples(tmp_path / "samples")
    video = samples["h264_mp4"].read_bytes()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=s3_app), base_url=TEST_BASE_URL
    ) as api:
        headers = await user_headers(api, "uploader")
        files = {"file": ("clip.mp4", video, "video/mp4")}
        # A resumable upload whose bytes all arrived before S3 went away.
        created = await api.post(
            "/api/v1/media/uploads", headers={**headers, **TUS, "Upload-Length": str(len(video))}
        )
        upload_id = created.json()["upload_id"]
        patched = await api.patch(
            f"/api/v1/media/uploads/{upload_id}",
            content=video,
            headers={
                **headers,
                **TUS,
                "Content-Type": "application/offset+octet-stream",
                "Upload-Offset": "0",
            },
        )
        assert patched.status_code == 204, patched.text
        files_before = temporary_files(s3_app)
        bucket_before = bucket_contents(s3_app, moto_endpoint)  # the resumable upload's bytes

        s3_proxy.cut()
        assert_storage_503(await api.post("/api/v1/media", files=files, headers=headers))
        assert_storage_503(
            await api.post(f"/api/v1/media/uploads/{upload_id}/complete", headers=headers)
        )
        listed = await api.get("/api/v1/media", headers=headers)
        assert listed.status_code == 200
        assert listed.json() == []
        assert bucket_contents(s3_app, moto_endpoint) == bucket_before
        assert temporary_files(s3_app) == files_before  # only the resumable upload's own

        s3_proxy.restore()
        stored = await api.post("/api/v1/media", files=files, headers=headers)
        assert stored.status_code == 201, stored.text
        completed = await api.post(f"/api/v1/media/uploads/{upload_id}/complete", headers=headers)
        assert completed.status_code == 200, completed.text  # the same bytes: the same media
        assert completed.json()["id"] == stored.json()["id"]
        # The same bytes stored once: one media object, and the poster made beside it.
        objects = bucket_contents(s3_app, moto_endpoint)
        [media_object] = [key for key in objects if not key.endswith(".poster.jpg")]
        poster = media_object.rsplit(".", 1)[0] + ".poster.jpg"
        assert sorted(objects) == sorted([media_object, poster])
        assert temporary_files(s3_app) == []

        content = f"/api/v1/media/{stored.json()['id']}/content"
        s3_proxy.cut()
        assert_storage_503(await api.get(content, headers=headers))
        s3_proxy.restore()
        downloaded = await api.get(content, headers=headers)
        assert downloaded.status_code == 200
        assert downloaded.content == video
