"""The role matrix, enforced on every workspace route: a walk over the whole URL map.

Every rule under /organiser, /admin or /reports (whichever area added it) must carry
`roles_required`; an anonymous visitor is sent to the login page and a logged-in user without the
role gets 403, for every method the rule accepts.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from werkzeug.routing.converters import NumberConverter

from eventreg.extensions import db
from tests.auth_helpers import login_as, make_user

STAFF_SEGMENTS = ("/organiser", "/admin", "/reports")
ROLES = ("admin", "organiser", "analyst")


@pytest.fixture
def app_config():
    # CSRF is checked before the view runs; switching it off lets a bare POST reach the role check,
    # which is what this test is about (every form still carries its token in real use).
    return {"WTF_CSRF_ENABLED": False}


def staff_rules(app):
    rules = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or not any(segment in rule.rule for segment in STAFF_SEGMENTS):
            continue
        rules.append(rule)
    return sorted(rules, key=lambda r: r.rule)


def dummy_url(rule) -> str:
    values = {}
    for name, converter in rule._converters.items():
        if name == "lang_code":
            values[name] = "en"
        elif isinstance(converter, NumberConverter):
            values[name] = 1
        else:
            values[name] = "x"
    _, path = rule.build(values, append_unknown=False)
    return path


def request_status(client, url: str, method: str = "GET") -> tuple[int, str]:
    """Status and redirect target; the response is closed so a streamed download ends its context."""
    with client.open(url, method=method) as response:
        response.get_data()  # run a streamed body to its end inside its own context
        return response.status_code, response.headers.get("Location", "")


def methods(rule) -> list[str]:
    return sorted(rule.methods - {"HEAD", "OPTIONS"})


def required_roles(app, rule) -> tuple[str, ...] | None:
    return getattr(app.view_functions[rule.endpoint], "required_roles", None)


def test_the_workspace_areas_are_in_the_map(app):
    paths = [rule.rule for rule in staff_rules(app)]
    assert any("/organiser" in p for p in paths)
    assert any("/admin/users" in p for p in paths)
    assert any("/admin/audit" in p for p in paths)


def test_every_staff_route_declares_its_roles(app):
    missing = [rule.rule for rule in staff_rules(app) if not required_roles(app, rule)]
    assert not missing, f"staff routes without @roles_required: {missing}"
    not_admin_only = [
        rule.rule
        for rule in staff_rules(app)
        if "/admin" in rule.rule and required_roles(app, rule) != ("admin",)
    ]
    assert not not_admin_only, f"/admin routes open to more than admins: {not_admin_only}"


def test_anonymous_visitors_are_sent_to_the_login_page(app):
    client = app.test_client()
    problems = []
    for rule in staff_rules(app):
        url = dummy_url(rule)
        for method in methods(rule):
            status, location = request_status(client, url, method)
            if status != 302 or urlsplit(location).path != "/en/login":
                problems.append(f"{method} {url}: {status} {location}")
    assert not problems, problems


def logged_in_clients(app) -> dict:
    # Users are made in a context of their own, so no app context is left pushed during the requests.
    clients = {}
    with app.app_context():
        for role in ROLES:
            clients[role] = app.test_client()
            login_as(clients[role], app, make_user(db.session, role=role))
    return clients


def test_users_without_the_role_get_403(app):
    clients = logged_in_clients(app)
    problems = []
    checked = 0
    for rule in staff_rules(app):
        allowed = required_roles(app, rule) or ()
        url = dummy_url(rule)
        for role in ROLES:
            if role == "admin" or role in allowed:
                continue
            for method in methods(rule):
                checked += 1
                status, _ = request_status(clients[role], url, method)
                if status != 403:
                    problems.append(f"{role} {method} {url}: {status}")
    assert checked > 0
    assert not problems, problems


def test_users_with_the_role_get_past_the_check(app):
    """With the role, the page answers (404 is fine: the dummy ids do not exist) and never errors."""
    clients = logged_in_clients(app)
    problems = []
    for rule in staff_rules(app):
        if "GET" not in rule.methods:
            continue
        url = dummy_url(rule)
        for role in ROLES:
            if role != "admin" and role not in (required_roles(app, rule) or ()):
                continue
            status, _ = request_status(clients[role], url)
            if status in (302, 401, 403) or status >= 500:
                problems.append(f"{role} GET {url}: {status}")
    assert not problems, problems
