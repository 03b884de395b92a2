"""What an import answers: each row's outcome and every problem found, by row and column."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

ImportMode = Literal["all", "rows"]
RowStatus = Literal["created", "valid", "already imported", "invalid", "not imported"]


class Problem(BaseModel):
    row: int = Field(description="The file's line number where the row starts (header: 1)")
    column: str | None = Field(description="The column at fault; null for the whole row")
    message: str


class RowResult(BaseModel):
    row: int
    status: RowStatus = Field(
        description="created; valid (dry run: would be created); already imported; invalid; "
        "not imported (mode=all and another row is invalid)"
    )
    post_id: int | None = None


class ImportReport(BaseModel):
    dry_run: bool
    mode: ImportMode
    created: int
    already_imported: int
    invalid: int
    rows: list[RowResult]
    problems: list[Problem]


class ImportRefused(Exception):
    """The file as a whole cannot be imported (its header, encoding, or size): no row is."""

    def __init__(self, status_code: int, problems: list[Problem]) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.status_code = status_code
        self.problems = problems
