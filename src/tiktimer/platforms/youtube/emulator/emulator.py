"""`YouTubeEmulator`: the operations behind the routes, each under the store's lock, and
the hooks tests use to script it (faults, verdicts, what was received)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from starlette.requests import ClientDisconnect

from . import metadata, oauth, quota, uploads, videos
from .config import EmulatorConfig
from .errors import ApiError, OAuthError
from .faults import Fault, FaultBook, FaultPlan
from .models import UploadSession, Video
from .store import MemoryStore, StateStore


class BodyCut(Exception):
    """The client went away mid-body; what arrived in whole blocks was kept."""


@dataclass(frozen=True, slots=True)
class ChunkAnswer:
    status: int  # 308, or 201 with the video
    headers: dict[str, str] = field(default_factory=dict)
    video: dict[str, Any] | None = None


class YouTubeEmulator:
    def __init__(self, config: EmulatorConfig | None = None, store: StateStore | None = None):
        self.config = config or EmulatorConfig()
        self.store = store or MemoryStore()
        self.faults = FaultBook()

    # -- scripting, for tests -------------------------------------------------------------

    def add_fault(self, fault: Fault) -> Fault:
        return self.faults.add(fault)

    def plan_faults(self, endpoint: str) -> FaultPlan:
        return self.faults.plan_for(endpoint)

    async def script_verdict(self, verdict: str, reason: str | None = None) -> None:
        """The next finished upload's processing ends this way (failed/rejected + reason)."""
        async with self.store.locked() as state:
            state.scripted_verdicts.append((verdict, reason))

    async def videos(self) -> list[Video]:
        async with self.store.locked() as state:
            return list(state.videos.values())

    async def sessions(self) -> list[UploadSession]:
        async with self.store.locked() as state:
            return list(state.sessions.values())

    async def quota_used(self, project: str) -> tuple[int, int]:
        """(upload calls, shared units) used today by `project`."""
        async with self.store.locked() as state:
            day = quota.today(state, project, self.config.clock())
            return day.upload_calls, day.shared_units

    # -- OAuth ----------------------------------------------------------------------------

    def consent_request(self, params: dict[str, str]) -> oauth.ConsentRequest:
        return oauth.read_consent_request(self.config, params)

    async def consent(
        self, params: dict[str, str], login: str, allow: bool, granted: tuple[str, ...] | None
    ) -> str:
        """The redirect the browser follows once the user answered the consent screen."""
        request = self.consent_request(params)
        answer: dict[str, str]
        if not allow or self.config.channel(login) is None:
            answer = {"error": "access_denied"}
        else:
            scopes = tuple(s for s in request.scopes if granted is None or s in granted)
            async with self.store.locked() as state:
                code = oauth.issue_code(state, self.config, request, login, scopes)
            answer = {"code": code, "scope": " ".join(scopes)}
        if request.state is not None:
            answer["state"] = request.state
        return f"{request.redirect_uri}?{urlencode(answer)}"

    async def token(self, form: dict[str, str]) -> dict[str, Any]:
        async with self.store.locked() as state:
            match form.get("grant_type"):
                case "authorization_code":
                    return oauth.exchange_code(state, self.config, form)
                case "refresh_token":
                    return oauth.refresh(state, self.config, form)
        raise OAuthError("unsupported_grant_type", "Invalid grant_type.")

    async def revoke(self, token: str) -> None:
        async with self.store.locked() as state:
            oauth.revoke(state, token)

    # -- videos.insert --------------------------------------------------------------------

    async def insert(
        self, headers: dict[str, str], query: dict[str, str], body: bytes, base_url: str
    ) -> str:
        """Open a resumable session; returns the session URI for `Location`."""
        async with self.store.locked() as state:
            grant = oauth.grant_for(state, self.config, headers.get("authorization"))
            client = self.config.client(grant.client_id)
            assert client is not None
            quota.charge_upload(state, self.config, client.project, self.config.clock())
            uploads.require_insert_scope(grant)
            uploads.check_channel_cap(state, self.config, grant.login, self.config.clock())
            if query.get("uploadType") != "resumable":
                raise ApiError(400, "invalidParameter", "uploadType must be resumable.")
            parts = metadata.parse_parts(query.get("part"))
            total, content_type = uploads.read_upload_headers(headers)
            try:
                resource = json.loads(body or b"{}")
            except ValueError as error:
                raise ApiError(400, "parseError", "The metadata is not JSON.") from error
            metadata.validate(resource, parts)
            session = uploads.open_session(
                state, self.config, grant, client, resource, parts, total, content_type
            )
        base = (self.config.public_base_url or base_url).rstrip("/")
        query_string = urlencode({"uploadType": "resumable", "upload_id": session.id})
        return f"{base}/upload/youtube/v3/videos?{query_string}"

    async def chunk(
        self, upload_id: str, headers: dict[str, str], body: AsyncIterable[bytes]
    ) -> ChunkAnswer:
        length = headers.get("content-length")
        head = uploads.ChunkHeaders(
            headers.get("content-range"), int(length) if length and length.isdigit() else None
        )
        async with self.store.locked() as state:
            grant = oauth.grant_for(state, self.config, headers.get("authorization"))
            session = uploads.live_session(state, self.config, upload_id)
            if session.grant_id != grant.id:
                raise ApiError(403, "forbidden", "The session belongs to another grant.")
            if session.video_id is not None:
                return self._finished(state.videos[session.video_id], session)
            first = uploads.check_chunk(session, self.config, head)
            if first is None:
                return ChunkAnswer(308, uploads.range_header(session))
        data, cut = await _read(body)
        async with self.store.locked() as state:
            session.bytes_offered += len(data)
            if len(session.received) != first:
                raise ApiError(400, "badContent", "Another request stored these bytes first.")
            uploads.store(
                session, first, data, complete=not cut and len(data) == head.content_length
            )
            if cut:
                raise BodyCut
            if len(data) != head.content_length:
                raise ApiError(400, "badContent", "The body is shorter than Content-Length.")
            if len(session.received) < session.total:
                return ChunkAnswer(308, uploads.range_header(session))
            client = self.config.client(grant.client_id)
            assert client is not None
            video = videos.create_video(state, client, grant, session, self.config.clock())
            return self._finished(video, session)

    def _finished(self, video: Video, session: UploadSession) -> ChunkAnswer:
        resource = videos.render(video, session.parts, self.config, owner=True, just_uploaded=True)
        return ChunkAnswer(201, {}, resource)

    # -- videos.list ----------------------------------------------------------------------

    async def list_videos(self, headers: dict[str, str], query: dict[str, str]) -> dict[str, Any]:
        async with self.store.locked() as state:
            grant = oauth.grant_for(state, self.config, headers.get("authorization"))
            client = self.config.client(grant.client_id)
            assert client is not None
            quota.charge_units(
                state, self.config, client.project, self.config.clock(), self.config.list_cost
            )
            if not videos.can_list(grant):
                raise ApiError(403, "insufficientPermissions", "Request had insufficient scopes.")
            parts = metadata.parse_parts(query.get("part"))
            ids = [i for i in query.get("id", "").split(",") if i]
            items = [
                videos.render(
                    state.videos[i], parts, self.config, owner=state.videos[i].login == grant.login
                )
                for i in ids
                if i in state.videos
            ]
        return {
            "kind": "youtube#videoListResponse",
            "items": items,
            "pageInfo": {"totalResults": len(items), "resultsPerPage": len(items)},
        }

    # -- channels.list --------------------------------------------------------------------

    async def my_channels(self, headers: dict[str, str], query: dict[str, str]) -> dict[str, Any]:
        """`channels.list?mine=true`: the signed-in channel (id and title) only."""
        if query.get("mine") != "true":
            raise ApiError(400, "invalidFilters", "Only mine=true is emulated.")
        async with self.store.locked() as state:
            grant = oauth.grant_for(state, self.config, headers.get("authorization"))
            client = self.config.client(grant.client_id)
            assert client is not None
            quota.charge_units(
                state, self.config, client.project, self.config.clock(), self.config.list_cost
            )
        channel = self.config.channel(grant.login)
        items = [] if channel is None else [_channel(channel.channel_id, channel.title)]
        return {"kind": "youtube#channelListResponse", "items": items}


def _channel(channel_id: str, title: str) -> dict[str, Any]:
    return {"kind": "youtube#channel", "id": channel_id, "snippet": {"title": title}}


async def _read(body: AsyncIterable[bytes]) -> tuple[bytes, bool]:
    """The request body, and whether the client went away before it ended."""
    data = bytearray()
    try:
        async for piece in body:
            data += piece
    except ClientDisconnect:
        return bytes(data), True
    return bytes(data), False
