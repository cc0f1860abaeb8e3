"""Importing a capture workbook's rows: every row through `enter_comment`, each row at most once."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from eventreg.capture.workbook import Capture
from eventreg.consultation.services import CommentAuthor
from eventreg.db import lock_one
from eventreg.models import CapturedRow, CommentSource, EventSession, User
from eventreg.moderation.services import enter_comment


class CaptureError(Exception):
    pass


class SessionNotFound(CaptureError):
    pass


@dataclass
class ImportResult:
    imported: int
    already: int


def already_imported(session: Session, capture: Capture) -> set[str]:
    fingerprints = [row.fingerprint for row in capture.rows]
    if not fingerprints:
        return set()
    return set(
        session.scalars(select(CapturedRow.fingerprint).where(CapturedRow.fingerprint.in_(fingerprints)))
    )


def import_capture(session: Session, capture: Capture, *, by: User) -> ImportResult:
    """Store the rows not imported before, in the caller's unit of work, as paper comments of the session.

    The session row is locked first, so two organisers confirming copies of the same workbook at once
    are taken one after the other and the second finds the first one's rows already there.
    """
    if lock_one(session, EventSession, capture.session_id) is None:
        raise SessionNotFound(capture.session_id)
    done = already_imported(session, capture)
    imported = 0
    for row in capture.rows:
        if row.fingerprint in done:
            continue
        author = CommentAuthor(
            name=row.name,
            organisation=row.organisation or None,
            sector=row.sector,
            region=row.region,
            sex=row.sex,
            # Said in the room: considered and published without the speaker's name.
            show_name=False,
            consented=True,
        )
        comment = enter_comment(
            session,
            capture.document_id,
            row.item_number or None,
            kind=row.kind,
            body=row.body,
            language=row.language,
            author=author,
            proposed_wording=row.wording or None,
            source=CommentSource.PAPER.value,
            event_session_id=capture.session_id,
            by=by,
        )
        session.add(
            CapturedRow(fingerprint=row.fingerprint, workbook_id=capture.workbook_id, comment_id=comment.id)
        )
        done.add(row.fingerprint)
        imported += 1
    session.flush()
    return ImportResult(imported=imported, already=len(capture.rows) - imported)
