"""Organiser pages for comments: the moderation queue, a comment with its decision, paper entry, groups."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select

from eventreg.accounts.auth import roles_required
from eventreg.consultation import versions
from eventreg.db import unit_of_work
from eventreg.extensions import csrf, db
from eventreg.forms import ConfirmForm, id_param
from eventreg.i18n import languages, localized
from eventreg.models import (
    Comment,
    CommentGroup,
    CommentStatus,
    Document,
    DocumentItem,
    EventSession,
    User,
)
from eventreg.moderation import services
from eventreg.moderation.forms import BulkForm, GroupForm, HideForm, MergeForm, PaperEntryForm, decision_form
from eventreg.security import is_safe_next
from eventreg.vocabulary import COMMENT_KINDS, COMMENT_SOURCES, COMMENT_STATUSES

bp = Blueprint("moderation", __name__, url_prefix="/<lang:lang_code>/organiser/comments")

STATUSES = set(COMMENT_STATUSES)
SITTING_KEY = "moderation_sitting"  # ids of comments typed in during this paper-entry sitting


def _me() -> User:
    return current_user.user


def _can_change() -> bool:
    return current_user.has_role("organiser")


def _get_comment_or_404(comment_id: int) -> Comment:
    comment = db.session.get(Comment, comment_id)
    if comment is None:
        abort(404)
    return comment


def _documents() -> list[Document]:
    return list(db.session.scalars(select(Document).order_by(Document.is_current.desc(), Document.id.desc())))


def _document_label(document: Document) -> str:
    return _("%(title)s (version %(version)d)", title=localized(document.title), version=document.version)


def _sessions() -> list[EventSession]:
    return list(db.session.scalars(select(EventSession).order_by(EventSession.starts_at.desc())))


def _return_to():
    """Back to the filtered queue page the action came from (a local path only, never another site)."""
    target = request.form.get("return_to", "")
    if is_safe_next(target):
        return redirect(target, code=303)
    return None


def _back_to(comment: Comment):
    return redirect(url_for("moderation.comment", comment_id=comment.id), code=303)


# --- the queue ------------------------------------------------------------------------------------


@bp.get("/")
@roles_required("organiser", "analyst")
def queue():
    args = request.args
    filters = {
        "document": args.get("document", ""),
        "item": args.get("item", "").strip(),
        "status": args.get("status", CommentStatus.NEW.value),
        "kind": args.get("kind", ""),
        "source": args.get("source", ""),
        "session": args.get("session", ""),
    }
    page = min(max(id_param(args.get("page")) or 1, 1), 10_000)
    if filters["status"] not in STATUSES:
        filters["status"] = "all"
    rows, has_next = services.queue_page(
        db.session,
        services.QueueFilters(
            document_id=id_param(filters["document"]),
            item_number=filters["item"],
            status=filters["status"] if filters["status"] in STATUSES else None,
            kind=filters["kind"] if filters["kind"] in COMMENT_KINDS else None,
            source=filters["source"] if filters["source"] in COMMENT_SOURCES else None,
            session_id=id_param(filters["session"]),
        ),
        page,
    )
    return render_template(
        "moderation/queue.html",
        rows=rows,
        has_next=has_next,
        page=page,
        filters=filters,
        documents=[(d, _document_label(d)) for d in _documents()],
        sessions=_sessions(),
        bulk_form=BulkForm(formdata=None),
        confirm_form=ConfirmForm(formdata=None),
        can_change=_can_change(),
    )


@bp.post("/bulk")
@roles_required("organiser")
def bulk():
    form = BulkForm()
    if not form.validate():
        flash(_("Nothing was changed: please try again."), "warning")
        return _return_to() or redirect(url_for("moderation.queue"), code=303)
    ids = form.ids.data or []
    if not ids:
        flash(_("Please tick the comments first."), "warning")
    elif form.action.data == "publish":
        with unit_of_work(db.session):
            changed = services.bulk_publish(db.session, ids, by=_me())
        flash(ngettext("%(num)d comment published.", "%(num)d comments published.", changed), "success")
    else:
        try:
            with unit_of_work(db.session):
                changed = services.bulk_hide(db.session, ids, form.reason.data or "", by=_me())
        except services.InvalidHideReason:
            flash(_("Please choose a reason for hiding."), "warning")
        else:
            flash(ngettext("%(num)d comment hidden.", "%(num)d comments hidden.", changed), "success")
    return _return_to() or redirect(url_for("moderation.queue"), code=303)


# --- one comment ----------------------------------------------------------------------------------


def _render_comment(comment: Comment, status: int = 200, **forms):
    user_ids = {comment.entered_by_id, comment.decided_by_id} - {None}
    users = (
        {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(user_ids)))} if user_ids else {}
    )
    group = db.session.get(CommentGroup, comment.group_id) if comment.group_id else None
    can_change = _can_change()
    return (
        render_template(
            "moderation/comment.html",
            comment=comment,
            item=comment.item,
            document=comment.document,
            event_session=db.session.get(EventSession, comment.session_id) if comment.session_id else None,
            entered_by=users.get(comment.entered_by_id),
            decided_by=users.get(comment.decided_by_id),
            original=db.session.get(Comment, comment.duplicate_of_id) if comment.duplicate_of_id else None,
            duplicates=services.duplicates_of(db.session, comment.id),
            group=group,
            group_size=services.group_sizes(db.session, [group.id]).get(group.id, 0) if group else 0,
            history=services.decision_history(db.session, comment.id),
            can_change=can_change,
            show_personal=can_change,  # e-mail addresses are for organisers, not analysts
            confirm_form=forms.get("confirm_form") or ConfirmForm(formdata=None),
            hide_form=forms.get("hide_form") or HideForm(formdata=None, reason=comment.hidden_reason or ""),
            merge_form=forms.get("merge_form") or MergeForm(formdata=None),
            decision_form=forms.get("decision_form") or _prefilled_decision_form(comment),
            decision_languages=_languages_first(comment.language),
            later=versions.later_wording(db.session, comment),
        ),
        status,
    )


def _languages_first(first: str) -> list[str]:
    """Configured languages with the comment's own first: its part and justification are the ones that count."""
    codes = list(languages())
    return sorted(codes, key=lambda code: code != first)


def _prefilled_decision_form(comment: Comment):
    values = {}
    for code in languages():
        values[f"part_{code}"] = (comment.decision_part or {}).get(code, "")
        values[f"justification_{code}"] = (comment.justification or {}).get(code, "")
    return decision_form(formdata=None, decision=comment.decision, **values)


@bp.get("/<int:comment_id>")
@roles_required("organiser", "analyst")
def comment(comment_id: int):
    return _render_comment(_get_comment_or_404(comment_id))


@bp.post("/<int:comment_id>/publish")
@roles_required("organiser")
def publish(comment_id: int):
    comment = _get_comment_or_404(comment_id)
    form = ConfirmForm()
    if not form.validate():
        return _render_comment(comment, 400, confirm_form=form)
    with unit_of_work(db.session):
        changed = services.publish_comment(db.session, comment_id, by=_me())
    if changed:
        flash(_("The comment is published."), "success")
    else:
        flash(_("The comment was already published."), "info")
    return _return_to() or _back_to(comment)


@bp.post("/<int:comment_id>/hide")
@roles_required("organiser")
def hide(comment_id: int):
    comment = _get_comment_or_404(comment_id)
    form = HideForm()
    if not form.validate():
        return _render_comment(comment, 400, hide_form=form)
    with unit_of_work(db.session):
        services.hide_comment(db.session, comment_id, form.reason.data, by=_me())
    flash(_("The comment is hidden. It is kept and can be published again."), "success")
    return _back_to(comment)


MERGE_MESSAGES = {
    "not_found": lambda: _("There is no comment with this number."),
    "self": lambda: _("A comment cannot be a duplicate of itself."),
    "other_document": lambda: _("The original comment must be on the same document."),
    "target_merged": lambda: _("That comment is itself a duplicate: please give the number of its original."),
}


@bp.post("/<int:comment_id>/merge")
@roles_required("organiser")
def merge(comment_id: int):
    comment = _get_comment_or_404(comment_id)
    form = MergeForm()
    if not form.validate():
        return _render_comment(comment, 400, merge_form=form)
    try:
        with unit_of_work(db.session):
            services.merge_comment(db.session, comment_id, form.target.data, by=_me())
    except services.InvalidMerge as exc:
        form.target.errors = [MERGE_MESSAGES[exc.reason]()]
        return _render_comment(comment, 409, merge_form=form)
    flash(_("The comment is marked as a duplicate of comment %(num)d.", num=form.target.data), "success")
    return _back_to(comment)


def _decision_errors(form, exc: services.ModerationError) -> None:
    """Put a decision rule's message next to the box that needs filling in."""
    if isinstance(exc, services.PartRequired):
        for code in exc.languages or list(languages())[:1]:
            field = getattr(form, f"part_{code}", None)
            if field is not None:
                field.errors = [_("Please say which part of the comment is accepted.")]
    elif isinstance(exc, services.ReasonRequired):
        for code in exc.languages:
            field = getattr(form, f"justification_{code}", None)
            if field is not None:
                field.errors = [_("A rejection needs its reason in the language of the comment.")]
    elif isinstance(exc, services.NotDecidable):
        form.decision.errors = [_("Hidden comments and duplicates are not decided on: publish it first.")]
    else:
        form.decision.errors = [_("Please choose one of the options offered.")]


@bp.post("/<int:comment_id>/decide")
@csrf.exempt  # the form checks its own token, so an expired page comes back with the justification typed
@roles_required("organiser")
def decide(comment_id: int):
    comment = _get_comment_or_404(comment_id)
    form = decision_form()
    if not form.validate():
        return _render_comment(comment, 400, decision_form=form)
    try:
        with unit_of_work(db.session):
            change = services.decide_comment(
                db.session,
                comment_id,
                form.decision.data,
                form.justification(),
                form.decision_part(),
                by=_me(),
            )
    except services.ModerationError as exc:
        _decision_errors(form, exc)
        return _render_comment(comment, 400, decision_form=form)
    if change is None:
        flash(_("The decision is unchanged."), "info")
    else:
        flash(_("The decision is recorded."), "success")
    return _back_to(comment)


@bp.post("/<int:comment_id>/ungroup")
@roles_required("organiser")
def ungroup(comment_id: int):
    comment = _get_comment_or_404(comment_id)
    if ConfirmForm().validate():
        with unit_of_work(db.session):
            services.remove_from_group(db.session, comment_id, by=_me())
        flash(_("The comment is no longer in the group."), "success")
    return _back_to(comment)


# --- paper entry ----------------------------------------------------------------------------------


def _entry_form(formdata=None, **data) -> PaperEntryForm:
    documents = [(str(d.id), _document_label(d)) for d in _documents()]
    sessions = [(str(s.id), str(localized(s.title))) for s in _sessions()]
    if formdata is None:
        return PaperEntryForm(formdata=None, documents=documents, sessions=sessions, **data)
    return PaperEntryForm(documents=documents, sessions=sessions)


def _kept_context(previous: Comment) -> dict:
    """What carries over to the next comment of a sitting: everything but the comment itself."""
    return {
        "document": str(previous.document_id),
        "event_session": str(previous.session_id or ""),
        "source": previous.source,
        "language": previous.language,
        "author_name": previous.author_name,
        "organisation": previous.organisation or "",
        "sector": previous.sector,
        "region": previous.region,
        "sex": previous.sex,
        "email": previous.email or "",
    }


def _render_entry(form: PaperEntryForm, status: int = 200):
    ids = session.get(SITTING_KEY, [])
    entered = []
    if ids:
        entered = db.session.execute(
            select(Comment, DocumentItem)
            .outerjoin(DocumentItem, DocumentItem.id == Comment.item_id)
            .where(Comment.id.in_(ids))
            .order_by(Comment.id.desc())
        ).all()
    return (
        render_template(
            "moderation/enter.html", form=form, entered=entered, new_sitting_form=ConfirmForm(formdata=None)
        ),
        status,
    )


@bp.get("/enter")
@roles_required("organiser")
def enter():
    data = {}
    previous_id = id_param(request.args.get("after"))
    if previous_id is not None and previous_id in session.get(SITTING_KEY, []):
        previous = db.session.get(Comment, previous_id)
        if previous is not None:
            data = _kept_context(previous)
    return _render_entry(_entry_form(None, **data))


@bp.post("/enter")
@csrf.exempt  # the form checks its own token, so an expired page comes back with the comment typed
@roles_required("organiser")
def enter_save():
    form = _entry_form(request.form)
    if not form.validate():
        return _render_entry(form, 400)
    try:
        with unit_of_work(db.session):
            comment = services.enter_comment(db.session, **form.entry(), by=_me())
    except services.UnknownItem:
        form.item_number.errors = [_("This document has no item with this number.")]
        return _render_entry(form, 400)
    except services.SessionMismatch:
        form.event_session.errors = [_("This session belongs to another consultation than the document.")]
        return _render_entry(form, 400)
    # Only ids in the cookie: the personal details stay in the database.
    session[SITTING_KEY] = [comment.id, *session.get(SITTING_KEY, [])][:200]
    flash(_("Comment %(num)d is saved. The form is ready for the next one.", num=comment.id), "success")
    return redirect(url_for("moderation.enter", after=comment.id), code=303)


@bp.post("/enter/new-sitting")
@roles_required("organiser")
def new_sitting():
    if ConfirmForm().validate():
        session.pop(SITTING_KEY, None)
    return redirect(url_for("moderation.enter"), code=303)


# --- groups ---------------------------------------------------------------------------------------


@bp.get("/groups")
@roles_required("organiser", "analyst")
def groups():
    document_id = id_param(request.args.get("document"))
    all_groups = list(db.session.scalars(select(CommentGroup).order_by(CommentGroup.created_at.desc())))
    suggestions = services.find_group_candidates(db.session, document_id) if _can_change() else []
    item_ids = {s.item_id for s in suggestions} - {None}
    items = (
        {i.id: i for i in db.session.scalars(select(DocumentItem).where(DocumentItem.id.in_(item_ids)))}
        if item_ids
        else {}
    )
    return render_template(
        "moderation/groups.html",
        groups=all_groups,
        sizes=services.group_sizes(db.session, [g.id for g in all_groups]),
        suggestions=suggestions,
        items=items,
        documents={d.id: _document_label(d) for d in _documents()},
        document_id=document_id,
        group_form=GroupForm(formdata=None),
        can_change=_can_change(),
    )


GROUP_MESSAGES = {
    "too_few": lambda: _("A group needs at least two comments."),
    "other_document": lambda: _("All comments of a group must be on the same document."),
    "already_grouped": lambda: _("Some of these comments are already in a group."),
    "not_groupable": lambda: _("Hidden comments and duplicates cannot be grouped."),
}


@bp.post("/groups")
@roles_required("organiser")
def create_group():
    form = GroupForm()
    if not form.validate():
        flash(_("Nothing was changed: please try again."), "warning")
        return redirect(url_for("moderation.groups"), code=303)
    ids = form.ids.data or []
    try:
        with unit_of_work(db.session):
            group = services.create_group(db.session, ids, form.label.data, by=_me())
    except services.InvalidGroup as exc:
        flash(GROUP_MESSAGES[exc.reason](), "warning")
        return redirect(url_for("moderation.groups"), code=303)
    flash(
        ngettext(
            "Group created with %(num)d comment.", "Group created with %(num)d comments.", len(set(ids))
        ),
        "success",
    )
    return redirect(url_for("moderation.group", group_id=group.id), code=303)


def _get_group_or_404(group_id: int) -> CommentGroup:
    group = db.session.get(CommentGroup, group_id)
    if group is None:
        abort(404)
    return group


def _render_group(group: CommentGroup, form=None, status: int = 200):
    members = services.group_comments(db.session, group.id)
    first_language = members[0].language if members else ""
    return (
        render_template(
            "moderation/group.html",
            group=group,
            members=members,
            document=db.session.get(Document, group.document_id),
            decision_form=form or decision_form(formdata=None),
            decision_languages=_languages_first(first_language),
            member_languages=sorted({c.language for c in members}),
            can_change=_can_change(),
        ),
        status,
    )


@bp.get("/groups/<int:group_id>")
@roles_required("organiser", "analyst")
def group(group_id: int):
    return _render_group(_get_group_or_404(group_id))


@bp.post("/groups/<int:group_id>/decide")
@csrf.exempt  # the form checks its own token, so an expired page comes back with the justification typed
@roles_required("organiser")
def decide_group(group_id: int):
    group = _get_group_or_404(group_id)
    form = decision_form()
    if not form.validate():
        return _render_group(group, form, 400)
    try:
        with unit_of_work(db.session):
            changed = services.decide_group(
                db.session, group_id, form.decision.data, form.justification(), form.decision_part(), by=_me()
            )
    except services.ModerationError as exc:
        _decision_errors(form, exc)
        return _render_group(group, form, 400)
    flash(
        ngettext(
            "The decision is recorded on %(num)d comment.",
            "The decision is recorded on %(num)d comments.",
            changed,
        ),
        "success",
    )
    return redirect(url_for("moderation.group", group_id=group.id), code=303)
