"""Rows imported from capture workbooks, remembered so that uploading a workbook again adds nothing twice."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from eventreg.db import Base

from .common import UTCDateTime, utcnow


class CapturedRow(Base):
    """One imported row: the fingerprint of (workbook, hidden row id, what was typed) and its comment.

    Two laptops that filled the same blank row differently give two fingerprints (both are kept); the
    same file uploaded twice, or a copy with more rows, gives the same fingerprints for the rows already in.
    """

    __tablename__ = "captured_rows"

    id: Mapped[int] = mapped_column(primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    workbook_id: Mapped[str] = mapped_column(String(40), index=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
