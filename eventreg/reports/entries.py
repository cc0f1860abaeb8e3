"""How comments are listed for readers: the one rule the results page, the table of comments (DOCX) and the
comparative table share, so the same comments make the same entries and the counts agree everywhere.

- Near-identical comments the moderators grouped (a campaign: `CommentGroup`, decided together) appear once
  per item, as one entry: the text of its first comment, "N comments", and the distinct authors of all N
  (each shown by the one public-author rule, `consultation.services.public_author_text`). Members that
  carry different decisions (one was decided again on its own) make separate entries: an entry has one
  decision.
- A merged duplicate (status MERGED, `duplicate_of_id`) is the same comment received again, often from the
  same person on paper and online. It is not listed and not counted as a comment (no report counts it);
  its original's entry says how many duplicates were merged into it, so nothing received disappears.
- Every listed comment is in exactly one entry, so the entries' "N comments" add up to the number of
  comments the page or the document states.

The spreadsheets (CSV, XLSX) stay one row per comment, for filtering and pivoting, with the group's name
and the number of duplicates merged into each comment in two columns.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from eventreg.consultation.services import public_author
from eventreg.reports.queries import (
    REPORTED_STATUSES,
    CommentRow,
    Filters,
    comment_records,
    merged_duplicates,
)


@dataclass
class Entry:
    comments: list[CommentRow]  # the comments listed as this entry, first (the one quoted) first
    duplicate_ids: list[int] = field(default_factory=list)  # merged duplicates of any of them

    @property
    def first(self) -> CommentRow:
        return self.comments[0]

    @property
    def count(self) -> int:
        return len(self.comments)

    @property
    def duplicates(self) -> int:
        return len(self.duplicate_ids)

    @property
    def ids(self) -> list[int]:
        """Every comment this entry stands for: the listed ones and the duplicates merged into them."""
        return [c.id for c in self.comments] + self.duplicate_ids

    @property
    def authors(self) -> list[str]:
        """Who the comments are from, each as the public pages show an author, once each, first seen first."""
        seen: dict[str, None] = {}
        for comment in self.comments:
            seen.setdefault(public_author(comment), None)
        return list(seen)


def _entry_key(record: CommentRow) -> tuple:
    if record.group_id is None:
        return ("comment", record.id)
    return ("group", record.group_id, record.item_id, record.decision_key)


def entries_of(records: Iterable[CommentRow], duplicates: dict[int, list[int]]) -> list[Entry]:
    """The records (in document order) as entries, each where its first comment stands."""
    by_key: dict[tuple, Entry] = {}
    for record in records:
        key = _entry_key(record)
        entry = by_key.get(key)
        if entry is None:
            entry = by_key[key] = Entry([])
        entry.comments.append(record)
        entry.duplicate_ids.extend(duplicates.get(record.id, ()))
    return list(by_key.values())


def comment_entries(
    session: Session, f: Filters, lang: str, statuses: tuple[str, ...] = REPORTED_STATUSES
) -> list[Entry]:
    """The comments a report lists under the filters, as entries in document order."""
    return entries_of(comment_records(session, f, lang, statuses), merged_duplicates(session, f, statuses))
