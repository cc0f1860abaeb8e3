"""What people thought of the sessions: one function builds the tables; the page, XLSX and CSV read them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from eventreg.evaluation.services import AGAIN, QUESTIONS, SCALE, invited_registrations
from eventreg.i18n import localized
from eventreg.models import EvaluationAnswer, EvaluationRound, EventSession
from eventreg.reports.queries import Column, Table
from eventreg.vocabulary import SECTORS, SEXES, label

QUESTION_LABELS = {
    "expectations": _l("Expectations met"),
    "usefulness": _l("Usefulness of the content"),
    "organisation": _l("Organisation of the session"),
}
AGAIN_LABELS = {"yes": _l("Yes"), "no": _l("No"), "not_sure": _l("Not sure")}


def _average(values: list[int]) -> float | str:
    return round(sum(values) / len(values), 2) if values else ""


def _rounds(session: Session, session_ids: list[int] | None) -> list[EvaluationRound]:
    stmt = select(EvaluationRound).join(EventSession).order_by(EventSession.starts_at, EventSession.id)
    if session_ids:
        stmt = stmt.where(EvaluationRound.session_id.in_(session_ids))
    return list(session.scalars(stmt))


def _answers(session: Session, rounds: list[EvaluationRound]) -> list[EvaluationAnswer]:
    if not rounds:
        return []
    return list(
        session.scalars(
            select(EvaluationAnswer)
            .where(EvaluationAnswer.round_id.in_([r.id for r in rounds]))
            .order_by(EvaluationAnswer.round_id, EvaluationAnswer.id)
        )
    )


def _by_group(answers: list[EvaluationAnswer], key: Callable, labels: dict, title, group_label) -> Table:
    groups: dict[str, list[EvaluationAnswer]] = defaultdict(list)
    for answer in answers:
        groups[key(answer)].append(answer)
    order = [code for code in labels if code in groups] + sorted(c for c in groups if c not in labels)
    rows = []
    for code in order:
        group = groups[code]
        row = [label(labels, code) or "—", len(group)]
        for question in QUESTIONS:
            values = [getattr(a, question) for a in group]
            row.append(_average(values))
            row += [values.count(score) for score in SCALE]
        rows.append(tuple(row))
    columns = [
        Column("group", group_label, width=28),
        Column("answers", _l("Answers"), numeric=True, width=10),
    ]
    for question in QUESTIONS:
        columns.append(
            Column(
                f"{question}_avg", _l("%(question)s: average", question=QUESTION_LABELS[question]), True, 14
            )
        )
        columns += [
            Column(
                f"{question}_{score}",
                _l("%(question)s: %(score)d", question=QUESTION_LABELS[question], score=score),
                True,
                8,
            )
            for score in SCALE
        ]
    return Table(key=f"evaluation_{title}", title=_TITLES[title], columns=columns, rows=rows)


_TITLES = {
    "sex": _l("Evaluation by sex"),
    "sector": _l("Evaluation by sector"),
}


def evaluation_tables(session: Session, session_ids: list[int] | None = None) -> list[Table]:
    """Answer rate and averages per session, then by sex and by sector (averages and distributions),
    the free texts, and every answer without any contact data."""
    rounds = _rounds(session, session_ids)
    answers = _answers(session, rounds)
    by_round: dict[int, list[EvaluationAnswer]] = defaultdict(list)
    for answer in answers:
        by_round[answer.round_id].append(answer)
    titles = {r.id: str(localized(r.session.title)) for r in rounds}

    per_session = []
    for evaluation in rounds:
        group = by_round[evaluation.id]
        asked = len(invited_registrations(session, evaluation))
        # Door answers (short link) come from walk-ins, who are among the people asked.
        rate = round(min(100.0, 100 * len(group) / asked), 1) if asked else ""
        row = [titles[evaluation.id], asked, len(group), rate]
        row += [_average([getattr(a, q) for a in group]) for q in QUESTIONS]
        row += [sum(1 for a in group if a.again == choice) for choice in AGAIN]
        per_session.append(tuple(row))
    summary = Table(
        key="evaluation_sessions",
        title=_l("Evaluation by session"),
        columns=[
            Column("session", _l("Session"), width=36),
            Column("asked", _l("Participants asked"), True, 12),
            Column("answers", _l("Answers"), True, 10),
            Column("rate", _l("Answer rate, %"), True, 12),
            *[
                Column(q, _l("%(question)s: average", question=QUESTION_LABELS[q]), True, 14)
                for q in QUESTIONS
            ],
            *[
                Column(
                    f"again_{c}", _l("Would take part again: %(answer)s", answer=AGAIN_LABELS[c]), True, 12
                )
                for c in AGAIN
            ],
        ],
        rows=per_session,
    )
    texts = Table(
        key="evaluation_texts",
        title=_l("Evaluation free texts"),
        columns=[
            Column("session", _l("Session"), width=36),
            Column("most_useful", _l("What was most useful"), width=50),
            Column("to_improve", _l("What to improve"), width=50),
        ],
        rows=[
            (titles[a.round_id], a.most_useful, a.to_improve)
            for a in answers
            if a.most_useful or a.to_improve
        ],
    )
    every = Table(
        key="evaluation_answers",
        title=_l("Evaluation answers"),
        columns=[
            Column("session", _l("Session"), width=36),
            Column("sex", _l("Sex"), width=12),
            Column("sector", _l("Sector"), width=24),
            *[Column(q, QUESTION_LABELS[q], True, 12) for q in QUESTIONS],
            Column("again", _l("Would take part again"), width=14),
            Column("most_useful", _l("What was most useful"), width=50),
            Column("to_improve", _l("What to improve"), width=50),
        ],
        rows=[
            (
                titles[a.round_id],
                label(SEXES, a.sex),
                label(SECTORS, a.sector) if a.sector else "",
                a.expectations,
                a.usefulness,
                a.organisation,
                str(AGAIN_LABELS.get(a.again, a.again)),
                a.most_useful,
                a.to_improve,
            )
            for a in answers
        ],
        autofilter=True,
    )
    return [
        summary,
        _by_group(answers, lambda a: a.sex, SEXES, "sex", _l("Sex")),
        _by_group(answers, lambda a: a.sector, SECTORS, "sector", _l("Sector")),
        texts,
        every,
    ]
