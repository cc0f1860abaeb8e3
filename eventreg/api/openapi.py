"""The OpenAPI 3.1 description of /api/v1, written by hand next to the routes it describes.

tests/test_api.py checks that it is a valid OpenAPI 3.1 document and that every API route is in it.
"""

from __future__ import annotations

from flask import url_for

from eventreg.models import CommentKind, SessionKind
from eventreg.vocabulary import REGIONS, SECTORS, SEXES

# The codes the forms accept, so a client (and the fuzzing in tests/api/test_schemathesis.py) knows them.
SECTOR = {"type": "string", "enum": list(SECTORS)}
REGION = {"type": "string", "enum": list(REGIONS), "description": "ISO 3166-2:KG code"}
SEX = {"type": "string", "enum": list(SEXES)}
COMMENT_KIND = {"type": "string", "enum": [kind.value for kind in CommentKind]}
CONSENT = {"const": True, "description": "The person agrees to the processing of their personal data."}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


PROBLEM = {
    "description": "Problem details (RFC 9457), title and detail in the request's language",
    "content": {"application/problem+json": {"schema": _ref("Problem")}},
}

UNAUTHORIZED = {
    **PROBLEM,
    "description": "No API key, or one that is unknown or revoked",
    "headers": {"WWW-Authenticate": {"required": True, "schema": {"type": "string"}}},
}
FORBIDDEN = {**PROBLEM, "description": "This key's role may not do this"}

LANG = {
    "name": "lang",
    "in": "query",
    "required": False,
    "description": "Language of texts and labels (ru, ky, en). Without it, Accept-Language decides.",
    "schema": {"type": "string"},
}
CURSOR = {
    "name": "cursor",
    "in": "query",
    "required": False,
    "description": "The next_cursor of the previous page.",
    "schema": {"type": "string"},
}
LIMIT = {
    "name": "limit",
    "in": "query",
    "required": False,
    "description": "Items per page, 1 to 200 (default 50).",
    "schema": {"type": "integer", "minimum": 1, "maximum": 200},
}


def _path(name: str, description: str) -> dict:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "string"},
    }


SLUG = _path("slug", "The consultation's (or session's) short name in its address.")
KEY = _path("key", "The document's key, e.g. strategy or action-plan.")
BEARER = [{"apiKey": []}]
REPORT_FILTERS = (
    "consultation",
    "document",
    "session",
    "region",
    "sector",
    "sex",
    "kind",
    "decision",
    "date_from",
    "date_to",
)


def _page_of(schema: str) -> dict:
    return {
        "type": "object",
        "required": ["items", "next_cursor", "next"],
        "properties": {
            "items": {"type": "array", "items": _ref(schema)},
            "next_cursor": {"type": ["string", "null"]},
            "next": {"type": ["string", "null"]},
        },
    }


CODED = {
    "type": ["object", "null"],
    "required": ["code", "label"],
    "properties": {"code": {"type": "string"}, "label": {"type": "string"}},
}
STRING = {"type": "string"}
URL = {"type": "string", "format": "uri"}
TIME = {"type": "string", "format": "date-time"}
MAYBE_TIME = {"type": ["string", "null"], "format": "date-time"}
MAYBE_STRING = {"type": ["string", "null"]}
MAYBE_INT = {"type": ["integer", "null"]}


def _object(properties: dict, description: str | None = None) -> dict:
    """An object that always has every one of these properties (what the serialisers write)."""
    body = {"type": "object", "required": list(properties), "properties": properties}
    if description:
        body["description"] = description
    return body


SCHEMAS = {
    "Problem": {
        "type": "object",
        "required": ["type", "title", "status"],
        "properties": {
            "type": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "errors": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["field", "detail"],
                    "properties": {"field": {"type": "string"}, "detail": {"type": "string"}},
                },
            },
        },
    },
    "Coded": CODED,
    "Consultation": _object(
        {
            "id": {"type": "integer"},
            "slug": STRING,
            "title": STRING,
            "description": STRING,
            "comments_open_at": MAYBE_TIME,
            "comments_close_at": MAYBE_TIME,
            "comments_open": {"type": "boolean"},
            "documents": {
                "type": "array",
                "items": _object(
                    {"key": STRING, "version": {"type": "integer"}, "title": STRING, "url": URL}
                ),
            },
            "sessions_url": URL,
            "comments_url": URL,
        }
    ),
    "Session": _object(
        {
            "id": {"type": "integer"},
            "slug": STRING,
            "consultation": STRING,
            "kind": CODED,
            "region": CODED,
            "title": STRING,
            "description": STRING,
            "venue": STRING,
            "starts_at": TIME,
            "ends_at": TIME,
            "time_zone": STRING,
            "languages": {"type": "array", "items": STRING},
            "capacity": {"type": "integer"},
            "places_left": {"type": "integer"},
            "waiting": {"type": "integer"},
            "waitlist_enabled": {"type": "boolean"},
            "registration_open": {"type": "boolean"},
            "closed_reason": {
                "type": ["object", "null"],
                "description": "Why registration is closed (null while it is open), with a sentence to show.",
                "required": ["code", "message"],
                "properties": {"code": STRING, "message": STRING},
            },
            "registrations_url": URL,
        }
    ),
    "Item": {
        "type": "object",
        "required": ["id", "number", "kind", "level", "heading", "text", "children"],
        "properties": {
            "id": {"type": "integer"},
            "number": {"type": "string"},
            "kind": {"type": "string"},
            "level": {"type": "integer"},
            "heading": {"type": "string"},
            "text": {"type": "string"},
            "fields": {"type": "object", "additionalProperties": {"type": "string"}},
            "children": {"type": "array", "items": {"$ref": "#/components/schemas/Item"}},
        },
    },
    "Document": _object(
        {
            "consultation": STRING,
            "key": STRING,
            "version": {"type": "integer"},
            "title": STRING,
            "language": STRING,
            "items": {"type": "array", "items": _ref("Item")},
            "comments_url": URL,
        }
    ),
    "Comment": {
        "type": "object",
        # /decisions adds the part, the justification and decided_at.
        "required": [
            "id",
            "document",
            "document_version",
            "item",
            "kind",
            "body",
            "proposed_wording",
            "language",
            "author",
            "source",
            "created_at",
            "decision",
        ],
        "properties": {
            "id": {"type": "integer"},
            "document": {"type": "string"},
            "document_version": {"type": "integer"},
            "item": {"type": ["string", "null"]},
            "kind": CODED,
            "body": {"type": "string"},
            "proposed_wording": {"type": ["string", "null"]},
            "language": {"type": "string"},
            "author": {
                "type": "string",
                "description": "Name only if the author agreed; else organisation, sector, region.",
            },
            "source": CODED,
            "created_at": {"type": "string", "format": "date-time"},
            "decision": CODED,
            "decision_part": {
                "type": ["string", "null"],
                "description": "For a partly accepted comment, which part: in the requested language, "
                "else in the first language that has it (like justification).",
            },
            "justification": {"type": ["string", "null"]},
        },
    },
    "Counts": _object(
        {
            "consultation": STRING,
            "comments": _object(
                {
                    "received": {"type": "integer"},
                    "by_kind": {
                        "type": "array",
                        "items": _object({"code": STRING, "label": STRING, "count": {"type": "integer"}}),
                    },
                    "published_decisions": {
                        "type": "array",
                        "items": _object({"code": STRING, "count": {"type": "integer"}}),
                    },
                }
            ),
            "registrations": {"type": "object", "additionalProperties": {"type": "integer"}},
        }
    ),
    "OpenData": _object(
        {
            "consultation": STRING,
            "title": STRING,
            "language": STRING,
            "licence": _object({"name": STRING, "url": URL}),
            "generated_at": TIME,
            "comments": {
                "type": "array",
                "items": {
                    "type": "object",
                    "description": "Empty strings where there is nothing (no item, no decision yet).",
                    "required": [
                        "comment_id",
                        "document",
                        "document_version",
                        "item",
                        "kind",
                        "body",
                        "author",
                    ],
                    "properties": {
                        "comment_id": {"type": "integer"},
                        "document": STRING,
                        "document_version": {"type": "integer"},
                        "item": STRING,
                        "kind": STRING,
                        "kind_label": STRING,
                        "body": STRING,
                        "proposed_wording": STRING,
                        "language": STRING,
                        "author": STRING,
                        "created_at": TIME,
                        "decision": STRING,
                        "decision_label": STRING,
                        "decision_part": STRING,
                        "justification": STRING,
                    },
                },
            },
        }
    ),
    "Registration": _object(
        {
            "id": {"type": "integer"},
            "session": STRING,
            "status": CODED,
            "full_name": STRING,
            "email": STRING,
            "phone": MAYBE_STRING,
            "organisation": STRING,
            "position": STRING,
            "sector": CODED,
            "region": CODED,
            "sex": CODED,
            "interpretation_language": MAYBE_STRING,
            "source": STRING,
            "created_at": TIME,
            "checked_in_at": MAYBE_TIME,
        },
        "A registration with the person's details.",
    ),
    "FullComment": {
        "type": "object",
        "description": "A comment with its moderation state and author. decision_part is the part accepted "
        "in the requested language (else another one); decision_part_by_language and justification hold "
        "the texts of every language.",
        "required": [
            "id",
            "document_id",
            "item_id",
            "item",
            "status",
            "kind",
            "body",
            "language",
            "author_name",
            "show_name",
            "source",
            "decision",
            "justification",
            "created_at",
        ],
        "properties": {
            "id": {"type": "integer"},
            "document_id": {"type": "integer"},
            "item_id": MAYBE_INT,
            "item": MAYBE_STRING,
            "status": CODED,
            "kind": CODED,
            "body": STRING,
            "proposed_wording": MAYBE_STRING,
            "language": STRING,
            "author_name": MAYBE_STRING,
            "organisation": MAYBE_STRING,
            "sector": CODED,
            "region": CODED,
            "sex": CODED,
            "email": MAYBE_STRING,
            "show_name": {"type": "boolean"},
            "source": CODED,
            "session_id": MAYBE_INT,
            "duplicate_of_id": MAYBE_INT,
            "decision": CODED,
            "decision_part": MAYBE_STRING,
            "decision_part_by_language": {
                "type": "object",
                "description": "Per language (ru, ky, en).",
                "additionalProperties": STRING,
            },
            "justification": {
                "type": "object",
                "description": "Per language (ru, ky, en).",
                "additionalProperties": STRING,
            },
            "created_at": TIME,
            "changed": {"type": "boolean", "description": "Only in the answer to a decision."},
        },
    },
    "Report": _object(
        {
            "report": STRING,
            "title": STRING,
            "columns": {"type": "array", "items": _object({"key": STRING, "label": STRING})},
            "rows": {"type": "array", "items": {"type": "array"}},
            "total": {"type": ["array", "null"]},
        }
    ),
    "PaperCommentInput": {
        "type": "object",
        "required": [
            "document",
            "source",
            "language",
            "kind",
            "body",
            "author_name",
            "sector",
            "region",
            "sex",
        ],
        "properties": {
            "document": {"type": "integer", "description": "Id of the current version of the document."},
            "item_number": {"type": "string"},
            "event_session": {"type": "integer"},
            "source": {"type": "string", "enum": ["paper", "spoken", "letter", "email"]},
            "language": {"type": "string"},
            "kind": COMMENT_KIND,
            "body": {"type": "string"},
            "proposed_wording": {"type": "string"},
            "author_name": {"type": "string"},
            "organisation": {"type": "string"},
            "sector": SECTOR,
            "region": REGION,
            "sex": SEX,
            "email": {"type": "string"},
        },
    },
    "DecisionInput": {
        "type": "object",
        "required": ["decision"],
        "properties": {
            "decision": {"type": "string", "enum": ["accepted", "partly_accepted", "rejected", "noted"]},
            "part_ru": {"type": "string", "description": "The part accepted, in Russian."},
            "part_ky": {"type": "string", "description": "The part accepted, in Kyrgyz."},
            "part_en": {"type": "string", "description": "The part accepted, in English."},
            "part": {
                "type": "string",
                "deprecated": True,
                "description": "The part accepted in the comment's language; used only without part_ru/_ky/_en.",
            },
            "justification_ru": {"type": "string"},
            "justification_ky": {"type": "string"},
            "justification_en": {"type": "string"},
        },
    },
    "RegistrationInput": {
        "type": "object",
        "required": [
            "full_name",
            "email",
            "organisation",
            "position",
            "sector",
            "region",
            "sex",
            "interpretation_language",
            "consent",
        ],
        "properties": {
            "full_name": {"type": "string", "maxLength": 200},
            "email": {"type": "string", "format": "email"},
            "phone": {"type": "string"},
            "organisation": {"type": "string", "maxLength": 300},
            "position": {"type": "string", "maxLength": 200},
            "sector": SECTOR,
            "region": REGION,
            "sex": SEX,
            "interpretation_language": {"type": "string"},
            "accessibility_needs": {"type": "string"},
            "consent": CONSENT,
        },
    },
    "RegistrationCreated": _object(
        {
            "id": {"type": "integer"},
            "session": STRING,
            "status": CODED,
            "waitlist_position": MAYBE_INT,
            "personal_link": URL,
        }
    ),
    "CommentInput": {
        "type": "object",
        "required": ["kind", "body", "name", "sector", "region", "sex", "consent"],
        "properties": {
            "item": {"type": "string", "description": "The item's number; leave out for the whole document."},
            "kind": COMMENT_KIND,
            "body": {"type": "string", "maxLength": 5000},
            "proposed_wording": {"type": "string", "maxLength": 5000},
            "name": {"type": "string"},
            "organisation": {"type": "string"},
            "sector": SECTOR,
            "region": REGION,
            "sex": SEX,
            "email": {"type": "string"},
            "show_name": {"type": "boolean"},
            "consent": CONSENT,
        },
    },
    "CommentCreated": _object(
        {"id": {"type": "integer"}, "document": STRING, "item": MAYBE_STRING, "status": CODED}
    ),
}


def _get(
    summary: str, schema: dict, parameters: list, *, secured: bool = False, extra: dict | None = None
) -> dict:
    responses = {"200": _json(schema, summary), "400": PROBLEM, "404": PROBLEM}
    if secured:
        responses.update({"401": UNAUTHORIZED, "403": FORBIDDEN})
    responses.update(extra or {})
    operation = {"summary": summary, "parameters": [LANG, *parameters], "responses": responses}
    if secured:
        operation["security"] = BEARER
    return {"get": operation}


def _post(summary: str, body: str, created: str, parameters: list, *, secured: bool = False) -> dict:
    responses = {
        "201": _json(_ref(created), "Stored"),
        "400": PROBLEM,
        "404": PROBLEM,
        "409": PROBLEM,
        "415": PROBLEM,
        "422": PROBLEM,
        "429": PROBLEM,
        "503": PROBLEM,
    }
    if secured:
        responses.update({"401": UNAUTHORIZED, "403": FORBIDDEN})
    operation = {
        "summary": summary,
        "parameters": [LANG, *parameters],
        "requestBody": {"required": True, "content": {"application/json": {"schema": _ref(body)}}},
        "responses": responses,
    }
    if secured:
        operation["security"] = BEARER
    return {"post": operation}


def paths() -> dict:
    return {
        "/api/v1/": _get(
            "Links to everything else",
            _object(
                {
                    "openapi": URL,
                    "reference": URL,
                    "consultations": URL,
                    "sessions": URL,
                    "languages": {"type": "array", "items": STRING},
                }
            ),
            [],
        ),
        "/api/v1/openapi.json": _get("This document", {"type": "object"}, []),
        "/api/v1/reference": {
            "get": {
                "summary": "This description as a readable page",
                "responses": {"200": {"description": "HTML", "content": {"text/html": {}}}},
            }
        },
        "/api/v1/consultations": _get("Consultations", _page_of("Consultation"), [CURSOR, LIMIT]),
        "/api/v1/consultations/{slug}": _get("One consultation", _ref("Consultation"), [SLUG]),
        "/api/v1/sessions": _get(
            "Sessions with places left (filters: consultation, region, kind, upcoming=1)",
            _page_of("Session"),
            [
                CURSOR,
                LIMIT,
                {"name": "consultation", "in": "query", "required": False, "schema": {"type": "string"}},
                {"name": "region", "in": "query", "required": False, "schema": REGION},
                {
                    "name": "kind",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "string", "enum": [kind.value for kind in SessionKind]},
                },
                {"name": "upcoming", "in": "query", "required": False, "schema": {"type": "string"}},
            ],
        ),
        "/api/v1/sessions/{slug}": _get("One session with places left", _ref("Session"), [SLUG]),
        "/api/v1/sessions/{slug}/registrations": _post(
            "Register for a session (same rules as the registration page)",
            "RegistrationInput",
            "RegistrationCreated",
            [SLUG],
        ),
        "/api/v1/consultations/{slug}/documents/{key}": _get(
            "The current version of a document as an item tree; ETag, answered 304 when unchanged",
            _ref("Document"),
            [SLUG, KEY],
            extra={"304": {"description": "Not modified"}},
        ),
        "/api/v1/consultations/{slug}/documents/{key}/comments": _post(
            "Comment on an item or the whole document (same rules as the comment page)",
            "CommentInput",
            "CommentCreated",
            [SLUG, KEY],
        ),
        "/api/v1/consultations/{slug}/comments": _get(
            "Published comments (filter: document)",
            _page_of("Comment"),
            [
                SLUG,
                CURSOR,
                LIMIT,
                {"name": "document", "in": "query", "required": False, "schema": {"type": "string"}},
            ],
        ),
        "/api/v1/consultations/{slug}/decisions": _get(
            "Decisions with their justification, for documents whose results are published",
            _page_of("Comment"),
            [
                SLUG,
                CURSOR,
                LIMIT,
                {"name": "document", "in": "query", "required": False, "schema": {"type": "string"}},
            ],
        ),
        "/api/v1/consultations/{slug}/counts": _get("Aggregated counts", _ref("Counts"), [SLUG]),
        "/api/v1/consultations/{slug}/open-data.json": _get(
            "Open data (CC BY 4.0): published comments with stable ids and, once results are published, decisions",
            _ref("OpenData"),
            [SLUG],
        ),
        "/api/v1/consultations/{slug}/open-data.csv": {
            "get": {
                "summary": "The same open data as CSV (UTF-8 with a byte-order mark); licence in the Link header",
                "parameters": [LANG, SLUG],
                "responses": {"200": {"description": "CSV", "content": {"text/csv": {}}}, "404": PROBLEM},
            }
        },
        # With an API key.
        "/api/v1/consultations/{slug}/registrations": _get(
            "Registrations with personal details (organiser key)",
            _page_of("Registration"),
            [SLUG, CURSOR, LIMIT],
            secured=True,
        ),
        "/api/v1/consultations/{slug}/all-comments": _get(
            "Every comment in any moderation state, with the author's details (organiser key)",
            _page_of("FullComment"),
            [SLUG, CURSOR, LIMIT],
            secured=True,
        ),
        "/api/v1/report-rows": _get(
            "Names of the reports (analyst or organiser key)",
            _object({"reports": {"type": "array", "items": STRING}}),
            [],
            secured=True,
        ),
        "/api/v1/report-rows/{name}": _get(
            "One report's rows, filtered like the dashboards (analyst or organiser key; contacts only for organisers)",
            _ref("Report"),
            [
                _path("name", "A name from /api/v1/report-rows, e.g. comments-by-region."),
                *[
                    {"name": name, "in": "query", "required": False, "schema": {"type": "string"}}
                    for name in REPORT_FILTERS
                ],
            ],
            secured=True,
        ),
        "/api/v1/paper-comments": _post(
            "Type in a comment given on paper, aloud, by letter or e-mail (organiser key)",
            "PaperCommentInput",
            "FullComment",
            [],
            secured=True,
        ),
        "/api/v1/comments/{comment_id}/decision": {
            "post": {
                **_post(
                    "Record the drafters' decision on a comment (organiser key)",
                    "DecisionInput",
                    "FullComment",
                    [
                        {
                            "name": "comment_id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "integer", "minimum": 1},
                        }
                    ],
                    secured=True,
                )["post"],
                "responses": {
                    "200": _json(_ref("FullComment"), "Recorded (changed says whether anything changed)"),
                    **{code: PROBLEM for code in ("400", "404", "409", "415", "422", "503")},
                    "401": UNAUTHORIZED,
                    "403": FORBIDDEN,
                },
            }
        },
    }


def document() -> dict:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "eventreg public consultation API",
            "version": "1",
            "description": (
                "Public reads need no key. Writes accept only `Content-Type: application/json`, which "
                "browsers cannot send to another site without CORS; that is why they need no CSRF token. "
                "Errors are problem details (RFC 9457) in the language of `?lang=` or Accept-Language."
            ),
        },
        "servers": [{"url": url_for("main.root", _external=True).rstrip("/") or "/"}],
        "paths": paths(),
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer"}},
        },
    }
