"""Every storage test runs twice: on a temp directory, and on a real S3 server on loopback.

The S3 server is moto in server mode (a real HTTP endpoint speaking the S3 protocol,
started once per session on a free port); each test gets a fresh bucket.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from moto.server import ThreadedMotoServer

from tiktimer.storage import LocalStorage, S3Storage, Storage

Leftovers = Callable[[], list[str]]


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
        env.setenv("NO_PROXY", "127.0.0.1")  # a CI proxy must not see loopback traffic
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
        server.stop()


@pytest.fixture
def s3_storage(s3_endpoint: str) -> Iterator[S3Storage]:
    storage = S3Storage(
        f"test-{uuid.uuid4().hex[:16]}",
        prefix="media/",
        endpoint_url=s3_endpoint,
        region="us-east-1",
    )
    storage.client.create_bucket(Bucket=storage.bucket)
    yield storage
    storage.client.close()


@pytest.fixture
def local_storage(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "media")


@pytest.fixture(params=["local", "s3"])
def storage(request: pytest.FixtureRequest) -> Storage:
    backend: Storage = request.getfixturevalue(f"{request.param}_storage")
    return backend


@pytest.fixture
def leftovers(storage: Storage) -> Leftovers:
    """Everything the backend holds: stored objects, temp files, pending multipart uploads."""
    if isinstance(storage, LocalStorage):
        root = storage.root
        return lambda: sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
    assert isinstance(storage, S3Storage)
    client, bucket = storage.client, storage.bucket

    def list_s3() -> list[str]:
        objects = client.list_objects_v2(Bucket=bucket).get("Contents", [])
        uploads = client.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
        return sorted([o["Key"] for o in objects] + [f"upload:{u['Key']}" for u in uploads])

    return list_s3
