"""The shape every report comes back in: columns with their labels, and rows."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass
class Column:
    key: str
    label: object  # a lazy string, rendered in the reader's language
    numeric: bool = False
    width: int = 14  # spreadsheet column width, in characters


@dataclass
class Table:
    """One report: headers and rows. Breakdown rows start with the group's label, then real numbers."""

    key: str
    title: object
    columns: list[Column]
    rows: Iterable[tuple]
    total: tuple | None = None
    notes: list[str] = field(default_factory=list)
    autofilter: bool = False  # a data list to sort and filter in a spreadsheet, not a summary

    @property
    def headers(self) -> list[str]:
        return [str(c.label) for c in self.columns]

    def max_value(self, index: int = 1) -> int:
        values = [row[index] for row in self.rows if isinstance(row[index], int)]
        return max(values, default=0)
