"""Rows as plain JSON values. No personal data leaves through the public functions here."""

from __future__ import annotations

from flask import url_for

from eventreg.api.common import coded, text, timestamp
from eventreg.consultation.services import public_author
from eventreg.models import (
    Comment,
    CommentKind,
    CommentSource,
    Consultation,
    Decision,
    Document,
    DocumentItem,
    EventSession,
    SessionKind,
)
from eventreg.registration.availability import Availability
from eventreg.vocabulary import REGIONS


def consultation(row: Consultation, now, documents: list[Document]) -> dict:
    return {
        "id": row.id,
        "slug": row.slug,
        "title": text(row.title),
        "description": text(row.description),
        "comments_open_at": timestamp(row.comments_open_at),
        "comments_close_at": timestamp(row.comments_close_at),
        "comments_open": row.comments_open(now),
        "documents": [
            {
                "key": d.key,
                "version": d.version,
                "title": text(d.title),
                "url": url_for("api.document", slug=row.slug, key=d.key, _external=True),
            }
            for d in documents
        ],
        "sessions_url": url_for("api.sessions", consultation=row.slug, _external=True),
        "comments_url": url_for("api.comments", slug=row.slug, _external=True),
    }


def event_session(row: EventSession, places: Availability) -> dict:
    reason = places.closed_reason
    return {
        "id": row.id,
        "slug": row.slug,
        "consultation": row.consultation.slug,
        "kind": coded(row.kind, SessionKind),
        "region": coded(row.region, REGIONS),
        "title": text(row.title),
        "description": text(row.description),
        "venue": text(row.venue),
        "starts_at": timestamp(row.starts_at),
        "ends_at": timestamp(row.ends_at),
        "time_zone": "Asia/Bishkek",
        "languages": list(row.languages or []),
        "capacity": places.capacity,
        "places_left": places.places_left,
        "waiting": places.waiting,
        "waitlist_enabled": row.waitlist_enabled,
        "registration_open": reason is None,
        "closed_reason": {"code": reason.value, "message": reason.label} if reason else None,
        "registrations_url": url_for("api.register", slug=row.slug, _external=True),
    }


def item(row: DocumentItem) -> dict:
    body = {
        "id": row.id,
        "number": row.number,
        "kind": row.kind,
        "level": row.level,
        "heading": text(row.heading),
        "text": text(row.text),
    }
    if row.fields:
        body["fields"] = {name: text(values) for name, values in row.fields.items()}
    body["children"] = []
    return body


def item_tree(items: list[DocumentItem]) -> list[dict]:
    """Items in reading order nested by their level (1 → 1.1 → 1.1.1), as the page indents them."""
    roots: list[dict] = []
    stack: list[tuple[int, dict]] = []
    for row in items:
        node = item(row)
        while stack and stack[-1][0] >= row.level:
            stack.pop()
        (stack[-1][1]["children"] if stack else roots).append(node)
        stack.append((row.level, node))
    return roots


def comment(row: Comment, numbers: dict[int, str], documents: dict[int, Document]) -> dict:
    """A published comment as the public sees it: the public author, never the name without consent."""
    document = documents[row.document_id]
    return {
        "id": row.id,
        "document": document.key,
        "document_version": document.version,
        "item": numbers.get(row.item_id) if row.item_id else None,
        "kind": coded(row.kind, CommentKind),
        "body": row.body,
        "proposed_wording": row.proposed_wording,
        "language": row.language,
        "author": public_author(row),
        "source": coded(row.source, CommentSource),
        "created_at": timestamp(row.created_at),
        "decision": coded(row.decision, Decision),
    }


def decision(row: Comment, numbers: dict[int, str], documents: dict[int, Document]) -> dict:
    body = comment(row, numbers, documents)
    body["decision_part"] = text(row.decision_part) or None
    body["justification"] = text(row.justification) or None
    body["decided_at"] = timestamp(row.decided_at)
    return body
