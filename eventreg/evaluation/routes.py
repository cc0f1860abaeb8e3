"""Session evaluation pages: the form on a participant's personal page, the short link at the door,
and the organisers' summary with its downloads."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from eventreg.accounts.auth import roles_required
from eventreg.db import unit_of_work
from eventreg.evaluation import services
from eventreg.evaluation.forms import DoorEvaluationForm, EvaluationForm, OpenEvaluationForm
from eventreg.evaluation.summary import evaluation_tables
from eventreg.extensions import csrf, db
from eventreg.forms import ConfirmForm, id_param
from eventreg.models import EventSession, utcnow
from eventreg.registration import services as registration_services
from eventreg.reports import exports

bp = Blueprint("evaluation", __name__, url_prefix="/<lang:lang_code>")


def _answer_data(form: EvaluationForm) -> services.AnswerData:
    return services.AnswerData(
        expectations=int(form.expectations.data),
        usefulness=int(form.usefulness.data),
        organisation=int(form.organisation.data),
        again=form.again.data,
        most_useful=form.most_useful.data or "",
        to_improve=form.to_improve.data or "",
        sex=getattr(form, "sex", None) and form.sex.data or "undisclosed",
        sector=getattr(form, "sector", None) and form.sector.data or "",
    )


def _filled(form: EvaluationForm, answer) -> None:
    for name in ("expectations", "usefulness", "organisation"):
        getattr(form, name).data = str(getattr(answer, name))
    form.again.data = answer.again
    form.most_useful.data = answer.most_useful
    form.to_improve.data = answer.to_improve


@bp.route("/r/<token>/evaluation", methods=["GET", "POST"])
@csrf.exempt  # checked by the form itself, keeping what was typed
def answer(token: str):
    registration = registration_services.find_by_token(db.session, token)
    if registration is None:
        abort(404)
    evaluation = services.round_for(db.session, registration.session_id)
    if evaluation is None or not services.is_invited(registration, evaluation):
        abort(404)
    existing = services.answer_for(db.session, registration.id)
    is_open = evaluation.is_open(utcnow())
    if request.method == "POST":
        form = EvaluationForm()
        if not is_open:
            flash(_("The evaluation of this session is closed. Thank you."), "warning")
            return redirect(url_for("registration.registration_page", token=token), code=303)
        if form.validate():
            try:
                with unit_of_work(db.session):
                    services.save_answer(
                        db.session, evaluation.id, _answer_data(form), registration_id=registration.id
                    )
            except services.EvaluationClosed:
                flash(_("The evaluation of this session is closed. Thank you."), "warning")
            else:
                flash(_("Thank you: your evaluation is saved. You can change it until it closes."), "success")
            return redirect(url_for("registration.registration_page", token=token), code=303)
        status = 400
    else:
        form = EvaluationForm(formdata=None)
        if existing is not None:
            _filled(form, existing)
        status = 200
    return render_template(
        "evaluation/form.html",
        form=form,
        event_session=registration.session,
        evaluation=evaluation,
        is_open=is_open,
        existing=existing,
        action=url_for("evaluation.answer", token=token),
        door=False,
    ), status


@bp.route("/e/<code>", methods=["GET", "POST"])
@csrf.exempt
def door_answer(code: str):
    """The short link shown at the door, for participants who gave no e-mail address."""
    evaluation = services.round_by_code(db.session, code)
    if evaluation is None:
        abort(404)
    is_open = evaluation.is_open(utcnow())
    form = DoorEvaluationForm() if request.method == "POST" else DoorEvaluationForm(formdata=None)
    status = 200
    if request.method == "POST" and is_open:
        if form.validate():
            try:
                with unit_of_work(db.session):
                    services.save_answer(db.session, evaluation.id, _answer_data(form))
            except services.EvaluationClosed:
                is_open = False
            else:
                return render_template("evaluation/thanks.html", event_session=evaluation.session)
        else:
            status = 400
    return render_template(
        "evaluation/form.html",
        form=form,
        event_session=evaluation.session,
        evaluation=evaluation,
        is_open=is_open,
        existing=None,
        action=url_for("evaluation.door_answer", code=code),
        door=True,
    ), status


# --- organisers -----------------------------------------------------------------------------------


def _session_ids() -> list[int] | None:
    chosen = id_param(request.args.get("session"))
    return [chosen] if chosen is not None else None


@bp.get("/reports/evaluations")
@roles_required("organiser", "analyst")
def summary():
    ids = _session_ids()
    event_session = db.session.get(EventSession, ids[0]) if ids else None
    if ids and event_session is None:
        abort(404)
    evaluation = services.round_for(db.session, event_session.id) if event_session else None
    return render_template(
        "evaluation/summary.html",
        tables=evaluation_tables(db.session, ids),
        event_session=event_session,
        evaluation=evaluation,
        now=utcnow(),
        open_form=OpenEvaluationForm(formdata=None),
    )


@bp.get("/reports/evaluations.xlsx")
@roles_required("organiser", "analyst")
def summary_xlsx():
    file = exports.xlsx_file(evaluation_tables(db.session, _session_ids()))
    return exports.file_response(file, exports.stamped("evaluations", "xlsx"), exports.XLSX_MIMETYPE)


@bp.get("/reports/evaluations.csv")
@roles_required("organiser", "analyst")
def answers_csv():
    table = evaluation_tables(db.session, _session_ids())[-1]
    return exports.csv_response(table, exports.stamped("evaluation-answers", "csv"))


@bp.post("/organiser/sessions/<int:session_id>/evaluation")
@roles_required("organiser")
def open_evaluation(session_id: int):
    form = OpenEvaluationForm()
    if not form.validate():
        abort(400)
    try:
        with unit_of_work(db.session):
            queued = services.open_evaluation(
                db.session, session_id, include_confirmed=form.include_confirmed.data, by=current_user.user
            )
    except services.SessionNotStarted:
        flash(_("The evaluation can be opened once the session has started."), "error")
    except services.EvaluationError:
        abort(409)
    else:
        flash(
            ngettext(
                "The evaluation is open; %(num)d invitation is queued.",
                "The evaluation is open; %(num)d invitations are queued.",
                queued,
            ),
            "success",
        )
    return redirect(url_for("evaluation.summary", session=session_id), code=303)


@bp.post("/organiser/sessions/<int:session_id>/evaluation/close")
@roles_required("organiser")
def close_evaluation(session_id: int):
    if not ConfirmForm().validate():
        abort(400)
    with unit_of_work(db.session):
        services.close_evaluation(db.session, session_id, by=current_user.user)
    flash(_("The evaluation is closed: answers can no longer be given or changed."), "info")
    return redirect(url_for("evaluation.summary", session=session_id), code=303)


@bp.app_template_global()
def evaluation_link_for(registration) -> str | None:
    """The personal page's link to the evaluation form, while it is open for this person."""
    evaluation = services.round_for(db.session, registration.session_id)
    if evaluation is None or not evaluation.is_open(utcnow()):
        return None
    if not services.is_invited(registration, evaluation):
        return None
    return url_for("evaluation.answer", token=registration.token)


@bp.app_template_global()
def evaluation_door_link(event_session_id: int) -> dict | None:
    """The short link and its QR code, for the door page while the evaluation is open."""
    from flask import current_app

    from eventreg.registration.routes import personal_qr_svg

    evaluation = services.round_for(db.session, event_session_id)
    if evaluation is None or not evaluation.is_open(utcnow()):
        return None
    path = url_for("evaluation.door_answer", code=evaluation.code)
    url = current_app.config["BASE_URL"] + path
    return {"url": url, "qr": personal_qr_svg(url, _("QR code of the session evaluation"))}
