"""The consultation's fixed vocabularies: regions, sectors, sexes, session kinds.

Labels are lazy so they follow the reader's language wherever they are shown.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from eventreg.models import (
    CommentKind,
    CommentSource,
    CommentStatus,
    Decision,
    HideReason,
    RegistrationStatus,
    SessionKind,
    Sex,
)

# ISO 3166-2:KG codes, in the order people expect to see them.
REGIONS: dict[str, object] = {
    "KG-B": _l("Batken Region"),
    "KG-J": _l("Jalal-Abad Region"),
    "KG-Y": _l("Issyk-Kul Region"),
    "KG-N": _l("Naryn Region"),
    "KG-O": _l("Osh Region"),
    "KG-T": _l("Talas Region"),
    "KG-C": _l("Chuy Region"),
    "KG-GB": _l("Bishkek City"),
    "KG-GO": _l("Osh City"),
}

SECTORS: dict[str, object] = {
    "state": _l("State body"),
    "local_government": _l("Local self-government"),
    "civil_society": _l("Civil-society organisation"),
    "business": _l("Business association"),
    "trade_union": _l("Trade union"),
    "international": _l("International organisation"),
    "media": _l("Media"),
    "academia": _l("Academia"),
    "citizen": _l("Individual citizen"),
}

# The codes that are enums carry their own labels (eventreg/models); these names stay for templates.
SEXES: dict[str, object] = Sex.labels()
SESSION_KINDS: dict[str, object] = SessionKind.labels()
REGISTRATION_STATUSES: dict[str, object] = RegistrationStatus.labels()
COMMENT_KINDS: dict[str, object] = CommentKind.labels()
COMMENT_SOURCES: dict[str, object] = CommentSource.labels()
COMMENT_STATUSES: dict[str, object] = CommentStatus.labels()
DECISIONS: dict[str, object] = Decision.labels()
HIDE_REASONS: dict[str, object] = HideReason.labels()


def label(vocabulary: dict[str, object], code: str | None) -> str:
    """The translated label for a code, or the code itself if it is unknown (never an error)."""
    if code is None:
        return ""
    return str(vocabulary.get(code, code))


def init_app(app) -> None:
    app.jinja_env.globals.update(
        regions=REGIONS,
        sectors=SECTORS,
        sexes=SEXES,
        session_kinds=SESSION_KINDS,
        region_label=lambda code: label(REGIONS, code),
        sector_label=lambda code: label(SECTORS, code),
        sex_label=lambda code: label(SEXES, code),
        kind_label=lambda code: label(SESSION_KINDS, code),
        status_label=lambda code: label(REGISTRATION_STATUSES, code),
        comment_kinds=COMMENT_KINDS,
        comment_sources=COMMENT_SOURCES,
        decisions=DECISIONS,
        hide_reasons=HIDE_REASONS,
        comment_kind_label=lambda code: label(COMMENT_KINDS, code),
        source_label=lambda code: label(COMMENT_SOURCES, code),
        decision_label=lambda code: label(DECISIONS, code),
        hide_reason_label=lambda code: label(HIDE_REASONS, code),
        comment_statuses=COMMENT_STATUSES,
        comment_status_label=lambda code: label(COMMENT_STATUSES, code),
    )
