"""Query-string secrets become `[redacted]` in request log lines; the names stay."""

from __future__ import annotations

import logging

import httpx
import pytest

from tiktimer.kit.redact import (
    RedactQueryFilter,
    install_http_client_redaction,
    install_log_redaction,
    redact_query,
)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "/api/v1/auth/tiktok/callback?code=abc&state=def&scopes=x",
            "/api/v1/auth/tiktok/callback?code=[redacted]&state=[redacted]&scopes=x",
        ),
        ("/m/1/public?exp=99&sig=f00", "/m/1/public?exp=99&sig=[redacted]"),
        ("/up?UPLOAD_TOKEN=t1&Signature=s", "/up?UPLOAD_TOKEN=[redacted]&Signature=[redacted]"),
        (
            "/x?access_token=a&refresh_token=b#f",
            "/x?access_token=[redacted]&refresh_token=[redacted]#f",
        ),
        ("/x?X-Amz-Signature=a&x=1", "/x?X-Amz-Signature=[redacted]&x=1"),
        ("/x?zipcode=12345&codes=1", "/x?zipcode=12345&codes=1"),  # only exact names
        (
            "accounts.connect.failed code=invalid_grant",
            "accounts.connect.failed code=invalid_grant",
        ),
        ("/posts/?status=scheduled", "/posts/?status=scheduled"),
    ],
)
def test_redact_query(line: str, expected: str) -> None:
    assert redact_query(line) == expected


def test_uvicorn_access_records_are_redacted_before_any_handler(
    caplog: pytest.LogCaptureFixture,
) -> None:
    install_log_redaction()
    install_log_redaction()  # idempotent
    access = logging.getLogger("uvicorn.access")
    assert sum(isinstance(f, RedactQueryFilter) for f in access.filters) == 1
    with caplog.at_level(logging.INFO, logger="uvicorn.access"):
        access.info(
            '%s - "%s %s HTTP/%s" %d',
            "127.0.0.1:5000",
            "GET",
            "/api/v1/auth/tiktok/callback?code=SECRET-CODE&state=SECRET-STATE",
            "1.1",
            200,
        )
    [record] = caplog.records
    assert "SECRET" not in record.getMessage()
    assert "code=[redacted]&state=[redacted]" in record.getMessage()


def test_every_platform_secret_is_redacted_in_httpx_lines(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """One filter with every platform's names: a client built first never decides what
    the others' lines keep (TikTok's upload token, YouTube's upload session, tokens)."""
    install_http_client_redaction()
    install_http_client_redaction()
    logger = logging.getLogger("httpx")
    assert sum(isinstance(f, RedactQueryFilter) for f in logger.filters) == 1
    url = httpx.URL(
        "https://upload.example/v?upload_token=TT-SECRET&upload_id=YT-SECRET&access_token=AT-SECRET"
    )
    with caplog.at_level(logging.INFO, logger="httpx"):
        logger.info('HTTP Request: %s %s "%s %d %s"', "PUT", url, "HTTP/1.1", 201, "Created")
    [record] = caplog.records
    message = record.getMessage()
    assert "SECRET" not in message
    assert "upload_token=[redacted]&upload_id=[redacted]&access_token=[redacted]" in message
