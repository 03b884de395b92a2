"""One CSV row → a `PostCreate`, or the row's problems, each naming its column.

What needs the user's data is looked up once per file (`RowResolver.load`): the connected
accounts and the library's media the file names. Times without an offset are read in the
user's zone; a wall-clock time that a DST change skips or repeats is a problem of the row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tiktimer.kit.time import AmbiguousLocalTime, local_to_utc
from tiktimer.models import Media, SocialAccount
from tiktimer.posts.importing import columns as cols
from tiktimer.posts.importing.columns import fingerprint
from tiktimer.posts.importing.media_urls import FetchProblem, MediaFetcher, is_url
from tiktimer.posts.importing.report import Problem
from tiktimer.posts.importing.table import SourceRow
from tiktimer.posts.schemas import PostCreate


@dataclass(frozen=True, slots=True)
class Importer:
    """Who imports: their id and time zone (naive times are read in it)."""

    id: int
    timezone: str


@dataclass(slots=True)
class PlannedRow:
    number: int
    fingerprint: str
    data: PostCreate | None = None
    problems: list[Problem] = field(default_factory=list)
    already: bool = False  # imported before, or repeated earlier in the same file


class RowResolver:
    def __init__(
        self,
        user: Importer,
        accounts: list[tuple[int, str | None, str | None]],
        media: list[tuple[str, str | None]],
        fetcher: MediaFetcher | None,
    ) -> None:
        self.user = user
        self.accounts = accounts
        self.media_ids = {media_id for media_id, _ in media}
        self.media_names: dict[str, list[str]] = {}
        for media_id, name in media:
            if name:
                self.media_names.setdefault(name, []).append(media_id)
        self.fetcher = fetcher
        self.fetched: dict[str, str | FetchProblem] = {}

    @classmethod
    async def load(
        cls,
        session: AsyncSession,
        user: Importer,
        rows: list[SourceRow],
        fetcher: MediaFetcher | None,
    ) -> RowResolver:
        accounts = (
            await session.execute(
                select(SocialAccount.id, SocialAccount.username, SocialAccount.display_name)
                .where(SocialAccount.user_id == user.id)
                .order_by(SocialAccount.id)
            )
        ).all()
        refs = sorted({ref for row in rows for ref in _media_refs(row) if not is_url(ref)})
        media = await _library_media(session, user.id, refs)
        listed = [(int(a.id), a.username, a.display_name) for a in accounts]
        return cls(user, listed, media, fetcher)

    async def plan(self, row: SourceRow) -> PlannedRow:
        planned = PlannedRow(row.number, fingerprint(row.cells))
        if row.extra_cells:
            planned.problems.append(
                Problem(
                    row=row.number, column=None, message="the row has more cells than the header"
                )
            )
        fields: dict[str, Any] = {}
        for column, raw in row.cells.items():
            value = raw.strip()
            if not value:
                continue
            try:
                fields[cols.COLUMN_FIELDS[column]] = await self._value(column, value)
            except ValueError as exc:
                planned.problems.append(Problem(row=row.number, column=column, message=str(exc)))
        try:
            data = PostCreate.model_validate(fields)
        except ValidationError as exc:
            # Every column's problem at once: those of cells already at fault are left out.
            at_fault = {problem.column for problem in planned.problems}
            found = [_problem(row.number, error) for error in exc.errors()]
            planned.problems += [p for p in found if p.column not in at_fault]
            return planned
        if not planned.problems:
            planned.data = data
        return planned

    async def _value(self, column: str, value: str) -> Any:
        if column == "time":
            return self._time(value)
        if column == "account":
            return self._account(value)
        if column == "media":
            return [await self._media(ref) for ref in _split_media(value)]
        if column in cols.BOOLEAN_COLUMNS:
            return cols.parse_boolean(value)
        if column in cols.INTEGER_COLUMNS:
            if not value.isdigit():
                raise ValueError("must be a whole number")
            return int(value)
        if column in cols.UPPER_COLUMNS:
            return value.upper()
        if column in cols.LOWER_COLUMNS:
            return value.lower()
        return value

    def _time(self, value: str) -> datetime:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(
                f"{value!r} is not a time like 2027-03-28T09:00 or 2027-03-28T09:00+02:00"
            ) from None
        if parsed.tzinfo is not None:
            return parsed
        try:
            return local_to_utc(parsed, self.user.timezone)
        except AmbiguousLocalTime as exc:
            raise ValueError(str(exc)) from None

    def _account(self, value: str) -> int:
        if value.isdigit():
            if any(account_id == int(value) for account_id, _, _ in self.accounts):
                return int(value)
            raise ValueError(f"no connected account has the id {value}")
        wanted = value.removeprefix("@").casefold()
        found = {
            account_id
            for account_id, username, display_name in self.accounts
            if wanted in ((username or "").casefold(), (display_name or "").casefold())
        }
        if len(found) == 1:
            return found.pop()
        if found:
            raise ValueError(f"several connected accounts are called {value!r}; give its id")
        raise ValueError(f"no connected account is called {value!r}")

    async def _media(self, ref: str) -> str:
        if is_url(ref):
            return await self._fetched(ref)
        if ref in self.media_ids:
            return ref
        named = self.media_names.get(ref, [])
        if len(named) == 1:
            return named[0]
        if named:
            raise ValueError(f"several files in your library are called {ref!r}; give its id")
        raise ValueError(f"{ref!r} is neither a media id nor a file name in your library")

    async def _fetched(self, url: str) -> str:
        if self.fetcher is None:
            raise ValueError("media URLs cannot be fetched here")
        if url not in self.fetched:
            try:
                self.fetched[url] = await self.fetcher.fetch(self.user.id, url)
            except FetchProblem as exc:
                self.fetched[url] = exc
        outcome = self.fetched[url]
        if isinstance(outcome, FetchProblem):
            raise ValueError(str(outcome))
        return outcome


def _split_media(value: str) -> list[str]:
    return [ref.strip() for ref in value.split(cols.MEDIA_SEPARATOR) if ref.strip()]


def _media_refs(row: SourceRow) -> list[str]:
    return _split_media(row.cells.get("media", ""))


def _problem(number: int, error: Any) -> Problem:
    loc = error.get("loc") or ()
    field_name = str(loc[0]) if loc else ""
    return Problem(row=number, column=cols.column_of(field_name), message=error["msg"])


async def _library_media(
    session: AsyncSession, user_id: int, refs: list[str]
) -> list[tuple[str, str | None]]:
    """The user's ready media whose id or file name is among `refs` (in slices of 500)."""
    found: list[tuple[str, str | None]] = []
    for start in range(0, len(refs), 500):
        part = refs[start : start + 500]
        result = await session.execute(
            select(Media.id, Media.original_filename).where(
                Media.user_id == user_id,
                Media.status == "ready",
                or_(Media.id.in_(part), Media.original_filename.in_(part)),
            )
        )
        found += [(str(media_id), name) for media_id, name in result.all()]
    return found
