"""A multipart/form-data body read as it arrives: one file part to disk, small fields to memory.

FastAPI's `UploadFile` is not used: Starlette parses the whole body into spooled temporary
files before the endpoint runs, so a size limit or a disconnect could only be noticed after
the fact. Here `python_multipart`'s streaming parser gets the body chunk by chunk from
`request.stream()`; the file part goes through a `Spool` (batched, hashed, written off the
event loop) into a temporary file, and the file size limit stops reading as soon as it is
passed. Other file parts are refused rather than stored.
"""

from __future__ import annotations

import hashlib
import logging
import re
import unicodedata
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
from anyio import to_thread
from python_multipart import MultipartParser
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import parse_options_header
from starlette.requests import ClientDisconnect, Request

from tiktimer.errors import BadRequest, PayloadTooLarge, Unprocessable
from tiktimer.media.errors import UnsupportedMediaType, UploadInterrupted
from tiktimer.media.spool import Spool

log = logging.getLogger("tiktimer.media")

MAX_FIELD_BYTES = 64 * 1024
MAX_FIELDS = 32
#: Room for boundaries and part headers when judging a declared Content-Length.
FORM_OVERHEAD_BYTES = 64 * 1024
MAX_FILENAME_LENGTH = 255
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class ReceivedFile:
    """A complete upload in a local temporary file (which its receiver deletes afterwards)."""

    path: Path
    size: int
    sha256: str
    filename: str | None


@dataclass(frozen=True)
class ReceivedForm:
    file: ReceivedFile
    fields: dict[str, str]


@asynccontextmanager
async def receive_form(
    request: Request,
    *,
    file_field: str,
    temp_dir: Path,
    max_file_bytes: int,
    max_field_bytes: int = MAX_FIELD_BYTES,
    max_fields: int = MAX_FIELDS,
) -> AsyncIterator[ReceivedForm]:
    """Stream the body into a temporary file; yield it with the text fields, then delete it.

    Raises 415 (not multipart), 413 (file or a field too large, also judged up front from
    Content-Length), 422 (no file part, an unexpected file part, too many fields), 400
    (malformed or cut-short body) and `UploadInterrupted` if the client goes away.
    """
    boundary = _boundary(request.headers.get("content-type"))
    _check_declared_length(request, max_file_bytes, max_fields * (max_field_bytes + 1024))
    form = _FormCollector(
        Spool(temp_dir / f"{uuid.uuid4().hex}.part", hasher=hashlib.sha256()),
        file_field=file_field,
        max_file_bytes=max_file_bytes,
        max_field_bytes=max_field_bytes,
        max_fields=max_fields,
    )
    try:
        await _parse(request, boundary, form)
        yield form.result()
    finally:
        await form.spool.abort()
        with anyio.CancelScope(shield=True):
            await to_thread.run_sync(lambda: form.spool.path.unlink(missing_ok=True))


async def _parse(request: Request, boundary: bytes, form: _FormCollector) -> None:
    parser = MultipartParser(boundary, form.callbacks())
    try:
        async for chunk in request.stream():
            parser.write(chunk)
            if form.spool.full:
                await form.spool.flush()
    except ClientDisconnect:
        log.info("media.upload.interrupted received=%d", form.spool.size)
        raise UploadInterrupted() from None
    except FormParserError as exc:
        raise BadRequest(f"Malformed multipart body: {exc}") from None
    if not form.ended:
        raise BadRequest("The multipart body ended before its closing boundary")
    if not form.file_seen:
        raise Unprocessable(
            [{"loc": ["body", form.file_field], "msg": "Field required", "type": "missing"}]
        )
    await form.spool.close()


@dataclass
class _FormCollector:
    """The parser's callbacks: route each part to the spool or to a small text field."""

    spool: Spool
    file_field: str
    max_file_bytes: int
    max_field_bytes: int
    max_fields: int
    fields: dict[str, str] = field(default_factory=dict)
    file_seen: bool = False
    filename: str | None = None
    ended: bool = False
    _headers: dict[bytes, bytes] = field(default_factory=dict)
    _header_name: bytearray = field(default_factory=bytearray)
    _header_value: bytearray = field(default_factory=bytearray)
    _name: str = ""
    _in_file: bool = False
    _value: bytearray = field(default_factory=bytearray)

    def callbacks(self) -> Any:
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": self._header_field,
            "on_header_value": self._header_value_data,
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
            "on_end": self._end,
        }

    def result(self) -> ReceivedForm:
        assert self.spool.hasher is not None
        file = ReceivedFile(
            self.spool.path, self.spool.size, self.spool.hasher.hexdigest(), self.filename
        )
        return ReceivedForm(file, dict(self.fields))

    def _part_begin(self) -> None:
        self._headers.clear()
        self._value = bytearray()
        self._in_file = False

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _header_value_data(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _header_end(self) -> None:
        self._headers[bytes(self._header_name).strip().lower()] = bytes(self._header_value)
        self._header_name, self._header_value = bytearray(), bytearray()

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition"))
        if b"name" not in options:
            raise BadRequest('A multipart part has no Content-Disposition "name"')
        self._name = _decode(options[b"name"])
        if self._name == self.file_field:
            if self.file_seen:
                raise Unprocessable(_field_error(self._name, "only one file may be sent"))
            self.file_seen, self._in_file = True, True
            self.filename = clean_filename(_decode(options.get(b"filename", b"")))
        elif b"filename" in options:
            raise Unprocessable(_field_error(self._name, "unexpected file field"))
        elif self._name in self.fields or len(self.fields) >= self.max_fields:
            raise Unprocessable(_field_error(self._name, "repeated field or too many fields"))

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._in_file:
            if self.spool.size + (end - start) > self.max_file_bytes:
                log.info("media.upload.too_large limit=%d", self.max_file_bytes)
                raise PayloadTooLarge(f"The file is larger than {_mib(self.max_file_bytes)}")
            # A view of the request's own chunk: the spool keeps it until written, no copy.
            self.spool.feed(memoryview(data)[start:end])
            return
        if len(self._value) + (end - start) > self.max_field_bytes:
            raise PayloadTooLarge(
                f"Form field {self._name!r} is larger than {self.max_field_bytes} bytes"
            )
        self._value += data[start:end]

    def _part_end(self) -> None:
        if self._in_file:
            return
        try:
            self.fields[self._name] = self._value.decode("utf-8")
        except UnicodeDecodeError:
            raise Unprocessable(_field_error(self._name, "is not valid UTF-8")) from None

    def _end(self) -> None:
        self.ended = True


def _boundary(content_type: str | None) -> bytes:
    kind, options = parse_options_header(content_type)
    if kind != b"multipart/form-data" or not options.get(b"boundary"):
        raise UnsupportedMediaType("Send the file as multipart/form-data")
    return options[b"boundary"]


def _check_declared_length(request: Request, max_file_bytes: int, max_form_bytes: int) -> None:
    """Refuse before reading when Content-Length is over the limit plus room for the form."""
    declared = request.headers.get("content-length")
    limit = max_file_bytes + max_form_bytes + FORM_OVERHEAD_BYTES
    if declared is not None and declared.isdigit() and int(declared) > limit:
        log.info("media.upload.too_large declared=%s limit=%d", declared, max_file_bytes)
        raise PayloadTooLarge(f"The file is larger than {_mib(max_file_bytes)}")


def clean_filename(raw: str) -> str | None:
    """The file's own name (no directories, no control characters), for display only."""
    name = raw.replace("\\", "/").rsplit("/", 1)[-1]
    name = _CONTROL.sub("", unicodedata.normalize("NFC", name)).strip()
    return name[:MAX_FILENAME_LENGTH] or None


def _decode(raw: bytes) -> str:
    """Header parameters arrive as latin-1 text that browsers fill with UTF-8 bytes."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _field_error(name: str, message: str) -> list[dict[str, Any]]:
    return [{"loc": ["body", name], "msg": message, "type": "value_error"}]


def _mib(size: int) -> str:
    return f"{size / (1024 * 1024):g} MiB"
