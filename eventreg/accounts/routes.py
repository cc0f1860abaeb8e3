"""Logging in and out, and the admin pages for accounts and the audit log."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from eventreg import ratelimit
from eventreg.accounts import services
from eventreg.accounts.auth import LoggedInUser, roles_required
from eventreg.accounts.forms import (
    ROLE_LABELS,
    ApiKeyForm,
    LoginForm,
    PasswordResetForm,
    RoleForm,
    UserCreateForm,
)
from eventreg.db import unit_of_work
from eventreg.extensions import db, limiter
from eventreg.forms import ConfirmForm, id_param
from eventreg.models import Role, User
from eventreg.security import is_safe_next

bp = Blueprint("accounts", __name__, url_prefix="/<lang:lang_code>")

# Failed logins are counted twice: per address (someone trying many accounts) and per e-mail (someone
# trying one account from many addresses). Successful logins are not counted.
LOGIN_LIMIT_PER_ADDRESS = "20 per 15 minutes"
LOGIN_LIMIT_PER_EMAIL = "5 per 15 minutes"
LOGIN_FAILED = 401


def _submitted_email() -> str:
    # Counted per address typed, but keyed (and logged by the limiter) as a hash, never the address itself.
    return "email:" + ratelimit.hashed(services.normalise_email(str(request.form.get("email", "")))[:254])


def _login_failed(response) -> bool:
    return response.status_code == LOGIN_FAILED


def landing_url(user: LoggedInUser) -> str:
    """Where a freshly logged-in person starts: the page their role uses most."""
    if user.has_role(Role.ORGANISER) and "organiser.dashboard" in current_app.view_functions:
        return url_for("organiser.dashboard")
    if user.has_role(Role.ANALYST) and "reports.dashboard" in current_app.view_functions:
        return url_for("reports.dashboard")
    return url_for("registration.sessions")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(LOGIN_LIMIT_PER_ADDRESS, methods=["POST"], deduct_when=_login_failed)
@limiter.limit(
    LOGIN_LIMIT_PER_EMAIL,
    key_func=_submitted_email,
    methods=["POST"],
    deduct_when=_login_failed,
    scope="login-email",
)
def login():
    if current_user.is_authenticated and request.method == "GET":
        return redirect(landing_url(current_user))
    form = (
        LoginForm() if request.method == "POST" else LoginForm(formdata=None, next=request.args.get("next"))
    )
    status = 200
    if request.method == "POST":
        if not form.validate():
            status = 400
        else:
            user = services.authenticate(db.session, form.email.data, form.password.data)
            if user is None:
                # One message for unknown e-mail, wrong password and disabled account alike.
                form.password.errors = [_("The e-mail or password is not right.")]
                status = LOGIN_FAILED
            else:
                with unit_of_work(db.session):
                    user = services.record_login(db.session, user.id, form.password.data)
                # A fresh session: nothing from before login (a planted session id) carries over.
                session.clear()
                logged_in = LoggedInUser(user)
                login_user(logged_in)
                target = form.next.data
                return redirect(target if is_safe_next(target) else landing_url(logged_in), code=303)
    form.password.data = ""
    return render_template("accounts/login.html", form=form), status


@bp.post("/logout")
def logout():
    form = ConfirmForm()
    if not form.validate():
        abort(400)
    if current_user.is_authenticated:
        with unit_of_work(db.session):
            services.end_sessions(db.session, current_user.user.id)
    logout_user()
    session.clear()
    flash(_("You are logged out."), "success")
    return redirect(url_for("registration.sessions"), code=303)


# --- admin: accounts -------------------------------------------------------------------------------


def _users_page(create_form: UserCreateForm, status: int = 200):
    return (
        render_template(
            "admin/users.html",
            users=services.list_users(db.session),
            create_form=create_form,
            role_labels=ROLE_LABELS,
            reset_form=PasswordResetForm(formdata=None),
        ),
        status,
    )


@bp.get("/admin/users")
@roles_required("admin")
def users():
    return _users_page(UserCreateForm(formdata=None, role=Role.ORGANISER.value))


@bp.post("/admin/users")
@roles_required("admin")
def create_user():
    form = UserCreateForm()
    if not form.validate():
        return _users_page(form, 400)
    try:
        with unit_of_work(db.session):
            user = services.create_user(
                db.session,
                form.email.data,
                form.password.data,
                form.role.data,
                name=form.name.data or "",
                by=current_user.user,
            )
    except services.EmailTaken:
        form.email.errors = [_("An account with this e-mail already exists.")]
        return _users_page(form, 409)
    flash(_("Account %(email)s created.", email=user.email), "success")
    return redirect(url_for("accounts.users"), code=303)


def _get_user_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


def _own_access_message() -> str:
    return _("You cannot remove your own admin access; ask another admin.")


@bp.post("/admin/users/<int:user_id>/role")
@roles_required("admin")
def change_role(user_id: int):
    user = _get_user_or_404(user_id)
    form = RoleForm()
    if not form.validate():
        flash(_("Please choose one of the options offered."), "error")
        return redirect(url_for("accounts.users"), code=303)
    try:
        with unit_of_work(db.session):
            services.change_role(db.session, user.id, form.role.data, by=current_user.user)
    except services.CannotChangeOwnAccess:
        flash(_own_access_message(), "error")
    else:
        flash(
            _("The role of %(email)s is now: %(role)s.", email=user.email, role=ROLE_LABELS[user.role]),
            "success",
        )
    return redirect(url_for("accounts.users"), code=303)


@bp.post("/admin/users/<int:user_id>/active")
@roles_required("admin")
def set_active(user_id: int):
    user = _get_user_or_404(user_id)
    form = ConfirmForm()
    if not form.validate():
        abort(400)
    active = request.form.get("active") == "1"
    try:
        with unit_of_work(db.session):
            services.set_active(db.session, user.id, active, by=current_user.user)
    except services.CannotChangeOwnAccess:
        flash(_own_access_message(), "error")
    else:
        if active:
            flash(_("Account %(email)s is enabled.", email=user.email), "success")
        else:
            flash(_("Account %(email)s is disabled and logged out everywhere.", email=user.email), "success")
    return redirect(url_for("accounts.users"), code=303)


@bp.route("/admin/users/<int:user_id>/password", methods=["GET", "POST"])
@roles_required("admin")
def reset_password(user_id: int):
    user = _get_user_or_404(user_id)
    form = PasswordResetForm()
    status = 200
    if request.method == "POST":
        if form.validate():
            with unit_of_work(db.session):
                services.reset_password(db.session, user.id, form.password.data, by=current_user.user)
            flash(
                _("New password set for %(email)s; they are logged out everywhere.", email=user.email),
                "success",
            )
            return redirect(url_for("accounts.users"), code=303)
        status = 400
    return render_template("admin/password.html", user=user, form=form), status


# --- admin: audit log ------------------------------------------------------------------------------


@bp.get("/admin/audit")
@roles_required("admin")
def audit_log():
    user_id = id_param(request.args.get("user"))
    action = request.args.get("action", "").strip()[:80]
    page = min(id_param(request.args.get("page")) or 1, 10_000)
    result = services.audit_entries(db.session, user_id=user_id, action=action, page=page)
    return render_template(
        "admin/audit.html",
        result=result,
        users=services.list_users(db.session),
        actions=services.audit_actions(db.session),
        user_id=user_id,
        action=action,
    )


# --- admin: API keys ---------------------------------------------------------------------------------


def _api_keys_page(form: ApiKeyForm, status: int = 200, new_key: str | None = None):
    from eventreg.api.keys import list_api_keys

    return (
        render_template(
            "admin/api_keys.html",
            keys=list_api_keys(db.session),
            form=form,
            role_labels=ROLE_LABELS,
            new_key=new_key,
            revoke_form=ConfirmForm(formdata=None),
        ),
        status,
    )


@bp.get("/admin/api-keys")
@roles_required("admin")
def api_keys():
    return _api_keys_page(ApiKeyForm(formdata=None, role=Role.ANALYST.value))


@bp.post("/admin/api-keys")
@roles_required("admin")
def create_api_key():
    from eventreg.api.keys import create_api_key as create

    form = ApiKeyForm()
    if not form.validate():
        return _api_keys_page(form, 400)
    with unit_of_work(db.session):
        key, secret = create(db.session, form.name.data, form.role.data, by=current_user.user)
    # Shown on this answer only (never redirected to, never stored): copy it now or make a new one.
    response, status = _api_keys_page(ApiKeyForm(formdata=None, role=Role.ANALYST.value), 201, new_key=secret)
    return response, status, {"Cache-Control": "no-store"}


@bp.post("/admin/api-keys/<int:key_id>/revoke")
@roles_required("admin")
def revoke_api_key(key_id: int):
    from eventreg.api.keys import revoke_api_key as revoke

    form = ConfirmForm()
    if not form.validate():
        abort(400)
    with unit_of_work(db.session):
        key = revoke(db.session, key_id, by=current_user.user)
    if key is None:
        abort(404)
    flash(
        _("The key “%(name)s” is revoked. Programs using it are refused from now on.", name=key.name),
        "success",
    )
    return redirect(url_for("accounts.api_keys"), code=303)
