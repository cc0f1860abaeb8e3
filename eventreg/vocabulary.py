"""The consultation's fixed vocabularies: regions, sectors, sexes, session kinds.

Labels are lazy so they follow the reader's language wherever they are shown.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

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

SEXES: dict[str, object] = {
    "female": _l("Female"),
    "male": _l("Male"),
    "undisclosed": _l("Prefer not to say"),
}

SESSION_KINDS: dict[str, object] = {
    "working_group": _l("Working-group meeting"),
    "regional": _l("Regional consultation"),
    "civil_society": _l("Civil-society consultation"),
    "online": _l("Online session"),
}

REGISTRATION_STATUSES: dict[str, object] = {
    "confirmed": _l("Confirmed"),
    "waitlisted": _l("On the waiting list"),
    "cancelled": _l("Cancelled"),
}

COMMENT_KINDS: dict[str, object] = {
    "support": _l("Support"),
    "objection": _l("Objection"),
    "amendment": _l("Amendment"),
    "question": _l("Question"),
    "other": _l("Other"),
}

COMMENT_SOURCES: dict[str, object] = {
    "online": _l("Online"),
    "paper": _l("Paper form"),
    "spoken": _l("Spoken at a session"),
    "letter": _l("Letter"),
    "email": _l("E-mail"),
}

DECISIONS: dict[str, object] = {
    "accepted": _l("Accepted"),
    "partly_accepted": _l("Partly accepted"),
    "rejected": _l("Rejected"),
    "noted": _l("Noted"),
}

HIDE_REASONS: dict[str, object] = {
    "spam": _l("Spam"),
    "abusive": _l("Abusive"),
    "off_topic": _l("Off-topic"),
    "personal_data": _l("Contains personal data"),
}


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
    )
