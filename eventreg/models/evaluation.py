"""Session evaluations (оценка встречи / жыйынга баа берүү): one round per session, one answer per person."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from eventreg.db import Base

from .common import UTCDateTime, utcnow
from .events import EventSession, Registration


class EvaluationRound(Base):
    """The evaluation of one session: open from when invitations go out until `closes_at`."""

    __tablename__ = "evaluation_rounds"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("event_sessions.id"), unique=True)
    # The short link and QR code shown at the door, for walk-ins who gave no e-mail address.
    code: Mapped[str] = mapped_column(String(16), unique=True)
    include_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    invited: Mapped[int] = mapped_column(Integer, default=0)

    session: Mapped[EventSession] = relationship()

    def is_open(self, now: datetime) -> bool:
        return now < self.closes_at


class EvaluationAnswer(Base):
    """One person's answer. Sex and sector are copied so that door answers (no registration) count too."""

    __tablename__ = "evaluation_answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("evaluation_rounds.id"), index=True)
    # One answer per registration (changeable until the round closes); NULL for an answer by short link.
    registration_id: Mapped[int | None] = mapped_column(ForeignKey("registrations.id"), unique=True)
    sex: Mapped[str] = mapped_column(String(20), default="undisclosed")
    sector: Mapped[str] = mapped_column(String(40), default="")
    expectations: Mapped[int] = mapped_column(Integer)
    usefulness: Mapped[int] = mapped_column(Integer)
    organisation: Mapped[int] = mapped_column(Integer)
    again: Mapped[str] = mapped_column(String(10))  # yes / no / not_sure
    most_useful: Mapped[str] = mapped_column(Text, default="")
    to_improve: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    round: Mapped[EvaluationRound] = relationship()
    registration: Mapped[Registration | None] = relationship()
