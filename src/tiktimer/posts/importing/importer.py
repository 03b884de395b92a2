"""Creating the posts of an import file: a dry run, all-or-nothing, or row by row.

Every post is created by `PostService.create`, the path `POST /posts/` takes, so whatever
that path checks (pre-flight, ownership, future times, defaults) holds for imported rows.

* **Dry run**: each row is created in its own transaction that is then rolled back, so
  every row's problems are found at once and nothing stays (media fetched from URLs do).
* **mode=rows**: each row in its own transaction, committed; a bad row costs only itself.
* **mode=all**: every row in one transaction, committed only if all succeed; if any row is
  bad nothing is created, and each row's problems are reported as in a dry run.

No savepoints: a row's transaction is short, and SQLite's driver handles a first
SAVEPOINT as the start of the transaction. A row whose fingerprint the user imported
before is "already imported" and skipped; the unique constraint settles concurrent imports.
"""

from __future__ import annotations

import logging
from typing import Any

from anyio import to_thread
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tiktimer.errors import Conflict, TiktimerError
from tiktimer.posts.importing import ledger
from tiktimer.posts.importing.columns import column_of, fingerprint
from tiktimer.posts.importing.media_urls import MediaFetcher
from tiktimer.posts.importing.report import ImportMode, ImportReport, Problem, RowResult
from tiktimer.posts.importing.resolve import Importer, PlannedRow, RowResolver
from tiktimer.posts.importing.table import ImportLimits, SourceRow, read_table
from tiktimer.posts.service import PostService

log = logging.getLogger("tiktimer.posts.importing")
ALREADY = "already imported"


class CsvImporter:
    def __init__(
        self,
        posts: PostService,
        sessionmaker: async_sessionmaker[AsyncSession],
        limits: ImportLimits,
        fetcher: MediaFetcher | None = None,
    ) -> None:
        self.posts = posts
        self.sessionmaker = sessionmaker
        self.limits = limits
        self.fetcher = fetcher

    async def run(
        self, user: Importer, data: bytes, *, mode: ImportMode = "all", dry_run: bool = False
    ) -> ImportReport:
        """Import `data` (CSV bytes) for `user`; `ImportRefused` if the file is unreadable."""
        rows = await to_thread.run_sync(read_table, data, self.limits)
        planned = await self._plan(user, rows)
        outcome = _Outcome(planned)
        ready = [row for row in planned if not row.already and row.data is not None]
        failure: tuple[int, Exception] | None = None
        if not dry_run and mode == "all" and not outcome.any_problem():
            await self._warm(user, ready)
            failure = await self._all_at_once(user, ready, outcome)
            if failure is None:
                return outcome.report(dry_run, mode)
        commit = not dry_run and mode == "rows"
        for row in ready:
            await self._one(user, row, outcome, commit=commit)
        if not dry_run and mode == "all":
            outcome.nothing_imported(failure if not outcome.any_problem() else None)
        return outcome.report(dry_run, mode)

    async def _plan(self, user: Importer, rows: list[SourceRow]) -> list[PlannedRow]:
        """Each row resolved, or marked already imported (then not even its URLs are
        fetched). No connection is held while media URLs are fetched."""
        prints = [fingerprint(row.cells) for row in rows]
        async with self.sessionmaker() as session:
            resolver = await RowResolver.load(session, user, rows, self.fetcher)
            before = await ledger.known(session, user.id, prints)
        planned: list[PlannedRow] = []
        seen: set[str] = set()
        for row, print_ in zip(rows, prints, strict=True):
            if print_ in before or print_ in seen:
                planned.append(PlannedRow(row.number, print_, already=True))
            else:
                planned.append(await resolver.plan(row))
            seen.add(print_)
        return planned

    async def _warm(self, user: Importer, ready: list[PlannedRow]) -> None:
        """Ask each account's platform first (TikTok's creator_info, cached briefly), so
        that the one transaction of mode=all seldom waits for TikTok."""
        validator = self.posts.validator
        if validator is None:
            return
        accounts = {row.data.social_account_id for row in ready if row.data is not None}
        for account_id in sorted(a for a in accounts if a is not None):
            await validator.prefetch(user.id, account_id)

    async def _all_at_once(
        self, user: Importer, ready: list[PlannedRow], outcome: _Outcome
    ) -> tuple[int, Exception] | None:
        """Create every row in one transaction; if one fails, nothing is kept: (row, why)."""
        created: dict[int, int] = {}
        async with self.sessionmaker() as session:
            for row in ready:
                try:
                    created[row.number] = await self._create(session, user, row)
                except (TiktimerError, IntegrityError) as exc:
                    await session.rollback()
                    log.info("import.all_rolled_back row=%d reason=%s", row.number, exc)
                    return row.number, exc
            await session.commit()
        for number, post_id in created.items():
            outcome.created(number, post_id)
        log.info("import.created user_id=%s posts=%d", user.id, len(created))
        return None

    async def _one(
        self, user: Importer, row: PlannedRow, outcome: _Outcome, *, commit: bool
    ) -> None:
        """Create one row in its own transaction; commit it, or roll it back (a check)."""
        async with self.sessionmaker() as session:
            try:
                post_id = await self._create(session, user, row)
            except (TiktimerError, IntegrityError) as exc:
                await session.rollback()
                outcome.failed(row.number, exc)
                return
            if commit:
                await session.commit()
                outcome.created(row.number, post_id)
            else:
                await session.rollback()
                outcome.rows[row.number] = RowResult(row=row.number, status="valid")

    async def _create(self, session: AsyncSession, user: Importer, row: PlannedRow) -> int:
        assert row.data is not None
        try:
            post = await self.posts.create(session, user.id, user.timezone, row.data)
        except Conflict:
            # The duplicate guard (posts.duplicates) may be seeing the post that a
            # concurrent import of this very row just committed.
            if await ledger.known(session, user.id, [row.fingerprint]):
                raise AlreadyImported() from None
            raise
        await ledger.record(session, user.id, row.fingerprint, post["id"])
        await session.flush()
        return int(post["id"])


class AlreadyImported(Conflict):
    """A concurrent import created this row's post first."""


class _Outcome:
    """Each row's result and problems as the import goes."""

    def __init__(self, planned: list[PlannedRow]) -> None:
        self.rows = {
            row.number: RowResult(row=row.number, status=ALREADY if row.already else "invalid")
            for row in planned
        }
        self.problems = {row.number: list(row.problems) for row in planned}

    def any_problem(self) -> bool:
        return any(self.problems.values())

    def created(self, number: int, post_id: int) -> None:
        self.rows[number] = RowResult(row=number, status="created", post_id=post_id)

    def failed(self, number: int, exc: Exception) -> None:
        if isinstance(exc, IntegrityError | AlreadyImported):  # a concurrent import won
            self.rows[number] = RowResult(row=number, status=ALREADY)
            return
        assert isinstance(exc, TiktimerError)
        self.rows[number] = RowResult(row=number, status="invalid")
        self.problems[number] += _service_problems(number, exc)

    def nothing_imported(self, failure: tuple[int, Exception] | None) -> None:
        """mode=all that failed: the good rows were not imported. A failure that only the
        rows together cause (checked one by one, each passed) is reported on its row."""
        if failure is not None:
            self.failed(*failure)
        for number, result in self.rows.items():
            if result.status == "valid":
                self.rows[number] = RowResult(row=number, status="not imported")

    def report(self, dry_run: bool, mode: ImportMode) -> ImportReport:
        rows = [self.rows[n] for n in sorted(self.rows)]
        return ImportReport(
            dry_run=dry_run,
            mode=mode,
            created=sum(r.status == "created" for r in rows),
            already_imported=sum(r.status == ALREADY for r in rows),
            invalid=sum(r.status == "invalid" for r in rows),
            rows=rows,
            problems=[p for n in sorted(self.problems) for p in self.problems[n]],
        )


def _service_problems(number: int, exc: TiktimerError) -> list[Problem]:
    """The create path's refusal, by column where it names a field."""
    detail: Any = exc.detail
    if isinstance(detail, list) and detail and all(isinstance(d, dict) for d in detail):
        return [
            Problem(row=number, column=_column(d.get("loc")), message=str(d.get("msg", d)))
            for d in detail
        ]
    return [Problem(row=number, column=None, message=str(detail))]


def _column(loc: Any) -> str | None:
    """The column of a 422's `loc` (["body", "scheduled_time"] → "time")."""
    for part in reversed(loc if isinstance(loc, list | tuple) else ()):
        column = column_of(str(part))
        if column is not None:
            return column
    return None
