"""Staff accounts: logging in and out, throttling, the users CLI and the admin's account pages."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from eventreg.accounts.passwords import verify_password
from eventreg.models import AuditEntry, User
from tests.auth_helpers import PASSWORD, login_as, make_user
from tests.factories import csrf_token


def log_in(client, email, password, lang="en", next_url=None, **kwargs):
    page = client.get(f"/{lang}/login" + (f"?next={next_url}" if next_url else ""), **kwargs)
    data = {"email": email, "password": password, "csrf_token": csrf_token(page.get_data(as_text=True))}
    if next_url:
        data["next"] = next_url
    return client.post(f"/{lang}/login", data=data, **kwargs)


def log_out(client, lang="en"):
    page = client.get(f"/{lang}/sessions")
    return client.post(f"/{lang}/logout", data={"csrf_token": csrf_token(page.get_data(as_text=True))})


def test_login_with_right_password_opens_the_workspace(client, db_session):
    user = make_user(db_session, role="organiser", email="aigul@example.kg")
    response = log_in(client, " Aigul@Example.KG ", PASSWORD)
    assert response.status_code == 303
    assert response.headers["Location"] == "/en/organiser/"
    page = client.get("/en/organiser/").get_data(as_text=True)
    assert "Workspace" in page and "Log out (aigul@example.kg)" in page
    db_session.expire_all()
    assert db_session.get(User, user.id).last_login_at is not None


def test_wrong_password_and_unknown_email_get_the_same_message(client, db_session):
    make_user(db_session, email="aigul@example.kg")
    wrong = log_in(client, "aigul@example.kg", "not the password")
    unknown = log_in(client, "nobody@example.kg", PASSWORD)
    assert wrong.status_code == unknown.status_code == 401
    for response in (wrong, unknown):
        assert "The e-mail or password is not right." in response.get_data(as_text=True)
    assert client.get("/en/organiser/").status_code == 302


def test_login_starts_a_fresh_session(client, db_session):
    make_user(db_session)
    user = make_user(db_session, email="fresh@example.kg")
    with client.session_transaction() as session:
        session["planted"] = "attacker-chosen"
    log_in(client, user.email, PASSWORD)
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["_user_id"] == f"{user.id}:{user.session_version}"


def test_logout_revokes_a_copied_cookie(app, client, db_session):
    user = make_user(db_session)
    log_in(client, user.email, PASSWORD)
    cookie = client.get_cookie("session")
    thief = app.test_client()
    thief.set_cookie("session", cookie.value)
    assert thief.get("/en/organiser/").status_code == 200

    assert log_out(client).status_code == 303
    assert client.get("/en/organiser/").status_code == 302
    assert thief.get("/en/organiser/").status_code == 302  # the copied cookie no longer works


def test_disabled_account_loses_access_at_once_and_cannot_log_in(app, client, db_session):
    user = make_user(db_session)
    login_as(client, app, user)
    assert client.get("/en/organiser/").status_code == 200
    user.active = False
    db_session.commit()
    response = client.get("/en/organiser/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    other = app.test_client()
    assert log_in(other, user.email, PASSWORD).status_code == 401


@pytest.mark.parametrize(
    "target, safe",
    [
        ("/en/organiser/sessions/new", True),
        ("https://evil.example/", False),
        ("//evil.example/", False),
        ("/\\evil.example", False),
        ("javascript:alert(1)", False),
    ],
)
def test_next_redirects_only_to_local_paths(client, db_session, target, safe):
    user = make_user(db_session)
    response = log_in(client, user.email, PASSWORD, next_url=target)
    assert response.status_code == 303
    assert response.headers["Location"] == (target if safe else "/en/organiser/")


def test_anonymous_visitor_is_sent_to_login_and_comes_back(client, db_session):
    make_user(db_session)
    response = client.get("/ru/organiser/")
    assert response.status_code == 302
    login_url = response.headers["Location"]
    assert login_url.startswith("/ru/login?next=")
    page = client.get(login_url).get_data(as_text=True)
    assert 'name="next" type="hidden" value="/ru/organiser/"' in page


class TestThrottling:
    @pytest.fixture
    def app_config(self):
        return {"RATELIMIT_ENABLED": True}

    def test_failed_logins_for_one_email_are_slowed_down_from_any_address(self, client, db_session):
        user = make_user(db_session, email="target@example.kg")
        for n in range(5):
            response = log_in(client, user.email, "guess", environ_base={"REMOTE_ADDR": f"10.0.0.{n}"})
            assert response.status_code == 401
        blocked = log_in(client, user.email, PASSWORD, environ_base={"REMOTE_ADDR": "10.0.0.99"})
        assert blocked.status_code == 429
        assert "Too many attempts" in blocked.get_data(as_text=True)
        # another account is not blocked by it
        other = make_user(db_session)
        assert log_in(client, other.email, PASSWORD).status_code == 303

    def test_failed_logins_from_one_address_are_slowed_down(self, client, db_session):
        for n in range(20):
            assert log_in(client, f"guess{n}@example.kg", "guess").status_code == 401
        assert log_in(client, "guess-last@example.kg", "guess").status_code == 429

    def test_successful_logins_are_not_counted(self, app, db_session):
        user = make_user(db_session)
        for _ in range(8):
            client = app.test_client()
            assert log_in(client, user.email, PASSWORD).status_code == 303


def test_users_cli_creates_an_account_from_stdin(runner, db_session):
    result = runner.invoke(
        args=[
            "users",
            "create",
            "Admin@Example.KG",
            "--role",
            "admin",
            "--name",
            "Айгүл",
            "--password-stdin",
        ],
        input="a long secret password\n",
    )
    assert result.exit_code == 0, result.output
    user = db_session.scalars(select(User)).one()
    assert (user.email, user.role, user.name) == ("admin@example.kg", "admin", "Айгүл")
    assert verify_password(user.password_hash, "a long secret password")
    assert user.password_hash != "a long secret password"


def test_users_cli_prompts_twice_and_refuses_duplicates_and_short_passwords(runner, db_session):
    result = runner.invoke(
        args=["users", "create", "org@example.kg", "--role", "organiser"],
        input="a long secret password\na long secret password\n",
    )
    assert result.exit_code == 0, result.output
    assert "Password:" in result.output and "Repeat for confirmation:" in result.output
    again = runner.invoke(
        args=["users", "create", "org@example.kg", "--role", "organiser", "--password-stdin"],
        input="another long password\n",
    )
    assert again.exit_code != 0 and "already exists" in again.output
    short = runner.invoke(
        args=["users", "create", "x@example.kg", "--role", "analyst", "--password-stdin"], input="short\n"
    )
    assert short.exit_code != 0 and "at least 10" in short.output
    bad_role = runner.invoke(args=["users", "create", "y@example.kg", "--role", "boss", "--password-stdin"])
    assert bad_role.exit_code != 0
    assert len(db_session.scalars(select(User)).all()) == 1


def admin_client(app, db_session):
    admin = make_user(db_session, role="admin", email="admin@example.kg")
    client = app.test_client()
    login_as(client, app, admin)
    return client, admin


def test_admin_creates_an_account_that_can_log_in(app, db_session):
    client, admin = admin_client(app, db_session)
    page = client.get("/en/admin/users")
    assert page.status_code == 200
    data = {
        "csrf_token": csrf_token(page.get_data(as_text=True)),
        "email": "analyst@example.kg",
        "name": "Ministry analyst",
        "role": "analyst",
        "password": "analyst password 1",
        "confirm": "analyst password 1",
    }
    assert client.post("/en/admin/users", data=data).status_code == 303
    assert "analyst@example.kg" in client.get("/en/admin/users").get_data(as_text=True)
    duplicate = client.post("/en/admin/users", data=data)
    assert duplicate.status_code == 409
    assert "already exists" in duplicate.get_data(as_text=True)
    mismatch = client.post("/en/admin/users", data={**data, "email": "x@example.kg", "confirm": "other"})
    assert mismatch.status_code == 400
    assert log_in(app.test_client(), "analyst@example.kg", "analyst password 1").status_code == 303
    entry = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "user.create")).one()
    assert entry.user_id == admin.id


def test_admin_changes_role_disables_and_resets_password(app, db_session):
    client, admin = admin_client(app, db_session)
    user = make_user(db_session, role="organiser")
    user_client = app.test_client()
    login_as(user_client, app, user)
    token = csrf_token(client.get("/en/admin/users").get_data(as_text=True))

    assert (
        client.post(
            f"/en/admin/users/{user.id}/role", data={"csrf_token": token, "role": "analyst"}
        ).status_code
        == 303
    )
    db_session.expire_all()
    assert db_session.get(User, user.id).role == "analyst"
    assert user_client.get("/en/organiser/").status_code == 403  # the new role applies at once

    client.post(f"/en/admin/users/{user.id}/active", data={"csrf_token": token, "active": "0"})
    db_session.expire_all()
    assert db_session.get(User, user.id).active is False
    assert user_client.get("/en/organiser/").status_code == 302
    assert "Disabled" in client.get("/en/admin/users").get_data(as_text=True)
    client.post(f"/en/admin/users/{user.id}/active", data={"csrf_token": token, "active": "1"})
    db_session.expire_all()
    assert db_session.get(User, user.id).active is True
    assert user_client.get("/en/organiser/").status_code == 302  # the old cookie stays dead

    form = client.get(f"/en/admin/users/{user.id}/password")
    data = {
        "csrf_token": csrf_token(form.get_data(as_text=True)),
        "password": "brand new password",
        "confirm": "brand new password",
    }
    assert client.post(f"/en/admin/users/{user.id}/password", data=data).status_code == 303
    assert log_in(app.test_client(), user.email, "brand new password").status_code == 303
    assert log_in(app.test_client(), user.email, PASSWORD).status_code == 401

    actions = [e.action for e in db_session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert actions == ["user.role", "user.disable", "user.enable", "user.password_reset"]


def test_admin_cannot_lock_themselves_out(app, db_session):
    client, admin = admin_client(app, db_session)
    token = csrf_token(client.get("/en/admin/users").get_data(as_text=True))
    client.post(f"/en/admin/users/{admin.id}/role", data={"csrf_token": token, "role": "analyst"})
    response = client.post(f"/en/admin/users/{admin.id}/active", data={"csrf_token": token, "active": "0"})
    db_session.expire_all()
    assert db_session.get(User, admin.id).role == "admin"
    assert db_session.get(User, admin.id).active is True
    assert "cannot remove your own admin access" in client.get(response.headers["Location"]).get_data(
        as_text=True
    )


def test_audit_log_page_filters_newest_first_and_pages(app, db_session):
    from eventreg import audit

    client, admin = admin_client(app, db_session)
    other = make_user(db_session)
    for n in range(55):
        audit.record(db_session, admin, "session.edit", None, n=n)
    audit.record(db_session, other, "session.cancel", None)
    db_session.commit()

    page = client.get("/en/admin/audit").get_data(as_text=True)
    assert "56 entries" in page
    assert page.index("<td>Session cancelled</td>") < page.index("n: 54")  # newest first, in words
    assert "Page 1 of 2" in page
    assert "n: 0" in client.get("/en/admin/audit?page=2").get_data(as_text=True)
    only_cancel = client.get("/en/admin/audit?action=session.cancel").get_data(as_text=True)
    assert "1 entry" in only_cancel
    by_other = client.get(f"/en/admin/audit?user={other.id}").get_data(as_text=True)
    assert "1 entry" in by_other and other.email in by_other
    assert client.get("/en/admin/audit?user=abc&page=-3").status_code == 200


def test_demo_load_creates_the_demo_logins(runner, app, db_session):
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    for email, password in [
        ("admin@demo.kg", "demo-admin"),
        ("organiser@demo.kg", "demo-organiser"),
        ("analyst@demo.kg", "demo-analyst"),
    ]:
        assert log_in(app.test_client(), email, password).status_code == 303


def test_staff_nav_shows_only_what_the_role_may_use(app, db_session):
    analyst = make_user(db_session, role="analyst")
    client = app.test_client()
    login_as(client, app, analyst)
    page = client.get("/en/sessions").get_data(as_text=True)
    assert "Log out" in page
    assert "/en/organiser/" not in page and "/en/admin/users" not in page
    admin_page = admin_client(app, db_session)[0].get("/en/sessions").get_data(as_text=True)
    assert (
        "/en/organiser/" in admin_page and "/en/admin/users" in admin_page and "/en/admin/audit" in admin_page
    )
