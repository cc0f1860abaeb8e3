"""axe-core finds nothing on any page: public pages in ky, ru and en, workspace pages, normal and error states.

The demo consultation is loaded (nine sessions, two drafts with comments, staff accounts), so pages show
what people see. Error states are reached the way people reach them: a form sent empty.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from eventreg.db import unit_of_work
from eventreg.models import Comment, EventSession, Registration, User
from eventreg.moderation import services as moderation
from eventreg.reports.services import publish_results
from tests.axe import axe_or_skip, violations
from tests.browser import browser_page

pytestmark = pytest.mark.browser

STRATEGY = "/consultation/gender-equality-strategy-2030/national-strategy"
ACTION_PLAN = "/consultation/gender-equality-strategy-2030/action-plan"


@pytest.fixture
def demo(app, runner, db_session):
    if not app.config["DATABASE_URL"].startswith("sqlite"):
        pytest.skip("accessibility does not depend on the database: checked once, on SQLite")
    axe_or_skip()
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    return db_session


def check(page, url: str, found: dict, *, submit: str | None = None) -> None:
    """Open the page (and send its form empty when `submit` names the button), then run axe."""
    response = page.goto(url)
    if "/login" in page.url and "/login" not in url:
        found[url] = ["sent to the log-in page: the check would not have seen the page"]
        return
    expected = 404 if url.endswith("/no-such-page") else 200  # axe on an error page checks the wrong page
    if response is not None and response.status != expected:
        found[url] = [f"HTTP {response.status}, not {expected}"]
        return
    if submit:
        page.locator(submit).first.click()
        page.wait_for_load_state()
        url += " (sent empty)"
    problems = violations(page)
    if problems:
        found[url] = problems


def report(found: dict[str, list[str]]) -> str:
    return "axe found problems:\n" + "\n".join(
        f"{url}\n  " + "\n  ".join(lines) for url, lines in found.items()
    )


def log_in(page, base: str, lang: str) -> None:
    page.goto(f"{base}/{lang}/login")
    page.fill("#email", "admin@demo.kg")
    page.fill("#password", "demo-admin")
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    assert "/login" not in page.url, "the demo admin could not log in"


def _decided_campaign(session, *, publish: bool = False) -> tuple[int, int]:
    """The demo's campaign grouped and partly accepted, as an organiser would: (group id, a member's id).

    With `publish`, the members are published and the strategy's results too (the public results page).
    """
    organiser = session.scalars(select(User).where(User.role == "organiser")).first()
    members = [c.id for c in moderation.find_group_candidates(session)[0].comments]
    with unit_of_work(session):
        if publish:
            for comment_id in members:
                moderation.publish_comment(session, comment_id, by=organiser)
        group = moderation.create_group(session, members, "", by=organiser)
        moderation.decide_group(
            session,
            group.id,
            "partly_accepted",
            {"ru": "Учтено в 3.4.1", "ky": "3.4.1-пунктта эске алынды"},
            {"ru": "Квота при распределении мандатов", "ky": "Мандаттарды бөлүштүрүүдөгү квота"},
            by=organiser,
        )
        if publish:
            document_id = session.get(Comment, members[0]).document_id
            publish_results(session, document_id, organiser)
    return group.id, members[0]


@pytest.mark.parametrize("lang", ["ky", "ru", "en"])
def test_public_pages_have_no_axe_violations(live_server, demo, lang):
    event = demo.scalars(select(EventSession).order_by(EventSession.id)).first()
    registration = demo.scalars(select(Registration).order_by(Registration.id)).first()
    _decided_campaign(demo, publish=True)  # what we heard: a campaign once, with its organisations
    base = f"{live_server.url}/{lang}"
    found: dict[str, list[str]] = {}
    with browser_page(javascript=True, phone=True, locale=lang, bypass_csp=True) as page:
        for url in (
            f"{base}/",
            f"{base}/sessions/{event.slug}",
            f"{base}/consultation",
            f"{base}{STRATEGY}",
            f"{base}{STRATEGY}?compare=en" if lang != "en" else f"{base}{STRATEGY}?compare=ky",
            f"{base}{ACTION_PLAN}",
            f"{base}{STRATEGY.replace('/consultation/', '/results/')}",
            f"{base}{STRATEGY}/items/1.1/comment",
            f"{base}/r/{registration.token}",
            f"{base}/r/{registration.token}/edit",
            f"{base}/r/{registration.token}/cancel",
            f"{base}/privacy",
            f"{base}/login",
            f"{base}/no-such-page",
        ):
            check(page, url, found)
        check(page, f"{base}/sessions/{event.slug}", found, submit="main form button.primary")
        check(page, f"{base}{STRATEGY}/items/1.1/comment", found, submit="main form button.primary")
        check(page, f"{base}/login", found, submit="main form button[type=submit]")
    assert not found, report(found)


def test_workspace_pages_have_no_axe_violations(live_server, demo):
    event = demo.scalars(select(EventSession).order_by(EventSession.id)).first()
    comment = demo.scalars(select(Comment).order_by(Comment.id)).first()
    user = demo.scalars(select(User).order_by(User.id)).first()
    group_id, decided = _decided_campaign(demo)  # a group page, and a comment with its history of decisions
    base = f"{live_server.url}/ky"
    found: dict[str, list[str]] = {}
    with browser_page(javascript=True, phone=False, locale="ky", bypass_csp=True) as page:
        page.set_viewport_size({"width": 1366, "height": 800})
        log_in(page, live_server.url, "ky")
        for url in (
            f"{base}/organiser/",
            f"{base}/organiser/consultations",
            f"{base}/organiser/consultations/new",
            f"{base}/organiser/sessions/new",
            f"{base}/organiser/sessions/{event.id}/edit",
            f"{base}/organiser/sessions/{event.id}/registrations",
            f"{base}/organiser/sessions/{event.id}/door",
            f"{base}/organiser/sessions/{event.id}/walk-in",
            f"{base}/organiser/sessions/{event.id}/copy",
            f"{base}/organiser/sessions/{event.id}/cancel",
            f"{base}/organiser/comments/",
            f"{base}/organiser/comments/{comment.id}",
            f"{base}/organiser/comments/enter",
            f"{base}/organiser/comments/groups",
            f"{base}/organiser/comments/groups/{group_id}",
            f"{base}/organiser/comments/{decided}",
            f"{base}/organiser/documents/upload",
            f"{base}/organiser/mail/",
            f"{base}/organiser/mail/write",
            f"{base}/reports/",
            f"{base}/reports/feedback",
            f"{base}/reports/results",
            f"{base}/admin/users",
            f"{base}/admin/users/{user.id}/password",
            f"{base}/admin/audit",
            f"{base}{STRATEGY}",
        ):
            check(page, url, found)
        for url in (
            f"{base}/organiser/consultations/new",
            f"{base}/organiser/sessions/new",
            f"{base}/organiser/comments/enter",
            f"{base}/organiser/mail/write",
        ):
            check(page, url, found, submit="main form button.primary, main form button[type=submit]")
    assert not found, report(found)


def test_first_clause_is_visible_within_a_screen_and_a_half_on_a_phone(live_server, demo):
    with browser_page(javascript=False, phone=True, locale="ky") as page:
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(f"{live_server.url}/ky{STRATEGY}")
        first = page.locator("article.item").first
        box = first.bounding_box()
        assert box is not None and box["y"] < 1.5 * 844, box
        # its comment button is there, large enough for a thumb
        button = first.locator(".comment-button")
        assert button.bounding_box()["height"] >= 44
        assert button.bounding_box()["y"] < 2 * 844
