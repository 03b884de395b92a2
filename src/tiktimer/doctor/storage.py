"""Media storage: write, read back and delete one small probe object, through `Storage`.

The probe goes through the same `build_storage` the service uses, so a local directory
that cannot be written and an S3 bucket without the right permissions fail the same way
uploads would. Its key lives under `doctor/`, apart from media keys (`u/…`).
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import aclosing

from tiktimer.config import StorageSettings
from tiktimer.doctor.context import DoctorContext
from tiktimer.doctor.result import CheckResult, fail, ok, short_error
from tiktimer.media.components import storage_for
from tiktimer.storage import Storage

CHECK = "storage"
PROBE = b"tiktimer doctor probe\n"


async def check_storage(ctx: DoctorContext) -> list[CheckResult]:
    assert ctx.settings is not None
    settings = ctx.settings.storage
    where = _where(settings)
    try:
        storage = storage_for(settings)
    except Exception as exc:
        return [fail(CHECK, f"{where}: {short_error(exc)}", _fix(settings))]
    step = "write"
    key = f"doctor/probe-{secrets.token_hex(6)}"
    try:
        await storage.put_stream(key, _chunks())
        step = "read"
        if await _read(storage, key) != PROBE:
            return [fail(CHECK, f"{where}: the probe read back differs", _fix(settings))]
        step = "delete"
        await storage.delete(key)
        if await storage.exists(key):
            return [fail(CHECK, f"{where}: the probe is still there after delete", _fix(settings))]
    except Exception as exc:
        return [fail(CHECK, f"{where}: cannot {step} a probe: {short_error(exc)}", _fix(settings))]
    finally:
        await storage.aclose()
    return [ok(CHECK, f"{where}: write, read and delete work")]


async def _chunks() -> AsyncIterator[bytes]:
    yield PROBE


async def _read(storage: Storage, key: str) -> bytes:
    async with aclosing(storage.open_range(key, 0, len(PROBE))) as pieces:
        return b"".join([piece async for piece in pieces])


def _where(settings: StorageSettings) -> str:
    if settings.backend == "s3":
        return f"s3://{settings.s3_bucket}/{settings.s3_prefix}"
    return f"local {settings.media_dir}"


def _fix(settings: StorageSettings) -> str:
    if settings.backend == "s3":
        return (
            "check TIKTIMER_S3_BUCKET, TIKTIMER_S3_ENDPOINT_URL and that the credentials may "
            "put, get and delete objects"
        )
    return (
        f"make {settings.media_dir} a directory the service's user can write "
        "(or point TIKTIMER_DATA_DIR elsewhere)"
    )
