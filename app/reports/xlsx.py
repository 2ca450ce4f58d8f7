"""Excel workbooks with Chinese headers (openpyxl): one styled sheet per table, saved to bytes."""
from __future__ import annotations

from io import BytesIO
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill

MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEAD = Font(bold=True)
FILL = PatternFill("solid", fgColor="DDEBF7")


def sheet(wb: Workbook, title: str, header: list[str], rows: list[list[Any]], *, first: bool = False):
    """Add a sheet (or fill the workbook's first) with a bold, shaded header row and readable column widths."""
    ws = wb.active if first else wb.create_sheet()
    ws.title = title[:31]
    ws.append(header)
    for cell in ws[1]:
        cell.font, cell.fill = HEAD, FILL
    for row in rows:
        ws.append(row)
    for i in range(1, len(header) + 1):
        ws.column_dimensions[ws.cell(row=1, column=i).column_letter].width = 18
    return ws


def to_bytes(wb: Workbook) -> bytes:
    out = BytesIO()
    wb.save(out)
    return out.getvalue()
