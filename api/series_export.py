"""A series as CSV (streamed row by row) or XLSX (XlsxWriter in constant-memory mode, written to a temporary file)."""

from __future__ import annotations

import csv
import io
import itertools
import tempfile
from collections.abc import Iterator
from pathlib import Path

from tools.series_table import EXPORT_COLUMNS, SeriesTable


def csv_lines(table: SeriesTable) -> Iterator[str]:
    """The header, then one CSV line per point: each yielded as written, so thousands of rows never sit in memory as one string."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for row in itertools.chain([EXPORT_COLUMNS], table.export_rows()):
        writer.writerow(["" if v is None else v for v in row])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def write_xlsx(table: SeriesTable, path: Path) -> Path:
    """The series as one worksheet at `path`; constant_memory flushes each row to disk as it is written."""
    import xlsxwriter  # lazily: only exports need it

    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True, "tmpdir": str(path.parent), "strings_to_numbers": False})
    try:
        sheet = workbook.add_worksheet("series")
        bold = workbook.add_format({"bold": True})
        sheet.write_row(0, 0, EXPORT_COLUMNS, bold)
        for n, row in enumerate(table.export_rows(), start=1):
            sheet.write_row(n, 0, ["" if v is None else v for v in row])
        notes = workbook.add_worksheet("about")
        about = [
            ("company", table.company),
            ("line item", table.series.label),
            ("query", table.query),
            ("unit", table.series.unit),
            ("periods", table.period.text),
            ("restated periods use", f"the {table.basis} printing"),
            ("labels printed", "; ".join(table.series.labels)),
        ] + [("note", n) for n in table.notes + table.series.joined]
        for n, (k, v) in enumerate(about):
            notes.write_row(n, 0, [k, v])
    finally:
        workbook.close()
    return path


def xlsx_file(table: SeriesTable) -> Path:
    """A temporary .xlsx of the series; the caller deletes it once sent."""
    folder = Path(tempfile.mkdtemp(prefix="sleuth-series-"))
    return write_xlsx(table, folder / "series.xlsx")
