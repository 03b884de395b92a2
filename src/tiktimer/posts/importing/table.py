"""Reading an import file: UTF-8 (with or without a BOM), bounded in bytes and rows.

The reader is plain `csv` in a worker thread (a big file must not hold the event loop). A
problem with the file as a whole (encoding, header, size) raises `ImportRefused`; a problem
with one row is left for the row's own report.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from tiktimer.posts.importing.columns import COLUMN_FIELDS, REQUIRED_COLUMNS, canonical
from tiktimer.posts.importing.report import ImportRefused, Problem

HEADER_ROW = 1


@dataclass(frozen=True, slots=True)
class ImportLimits:
    max_rows: int
    max_bytes: int


@dataclass(frozen=True, slots=True)
class SourceRow:
    """One data row: its line number, its cells by canonical column, and extra cells."""

    number: int
    cells: dict[str, str]
    extra_cells: int = 0


def read_table(data: bytes, limits: ImportLimits) -> list[SourceRow]:
    """The file's data rows; `ImportRefused` (413 or 422) if the file cannot be read."""
    if len(data) > limits.max_bytes:
        raise _refused(413, f"the file is larger than {limits.max_bytes} bytes")
    text = _decode(data)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        if header is None:
            raise _refused(422, "the file is empty: it needs a header row (time, caption, …)")
        columns = _columns(header)
        return _rows(reader, columns, limits.max_rows)
    except csv.Error as exc:
        raise _refused(422, f"line {reader.line_num}: not valid CSV ({exc})") from None


def _decode(data: bytes) -> str:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _refused(
            422, f"the file is not UTF-8 (byte {exc.start}); save it as UTF-8 CSV"
        ) from None
    if "\x00" in text:
        raise _refused(422, "the file contains NUL characters; it is not a text CSV file")
    return text


def _columns(header: list[str]) -> list[str]:
    names = [canonical(cell) for cell in header]
    problems = [
        Problem(row=HEADER_ROW, column=raw.strip(), message=f"unknown column {raw.strip()!r}")
        for raw, name in zip(header, names, strict=True)
        if name not in COLUMN_FIELDS
    ]
    seen: set[str] = set()
    for name in names:
        if name in seen and name in COLUMN_FIELDS:
            problems.append(Problem(row=HEADER_ROW, column=name, message="column given twice"))
        seen.add(name)
    problems += [
        Problem(row=HEADER_ROW, column=name, message=f"the {name!r} column is required")
        for name in REQUIRED_COLUMNS
        if name not in seen
    ]
    if problems:
        known = ", ".join(COLUMN_FIELDS)
        problems[-1] = problems[-1].model_copy(
            update={"message": f"{problems[-1].message} (columns: {known})"}
        )
        raise ImportRefused(422, problems)
    return names


def _rows(reader: Any, columns: list[str], max_rows: int) -> list[SourceRow]:
    rows: list[SourceRow] = []
    start = reader.line_num + 1
    for record in reader:
        if any(cell.strip() for cell in record):
            if len(rows) == max_rows:
                raise _refused(413, f"the file has more than {max_rows} rows")
            cells = dict(zip(columns, record, strict=False))
            rows.append(SourceRow(start, cells, max(0, len(record) - len(columns))))
        start = reader.line_num + 1
    if not rows:
        raise _refused(422, "the file has a header but no rows")
    return rows


def _refused(status_code: int, message: str) -> ImportRefused:
    return ImportRefused(status_code, [Problem(row=HEADER_ROW, column=None, message=message)])
