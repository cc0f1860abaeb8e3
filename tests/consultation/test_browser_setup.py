"""From an empty database to a published decision, through the browser alone (issue 4, "done when").

One admin account exists; everything else is done the way people do it: the admin makes an organiser
account, the organiser sets up a consultation, a session and a draft, a visitor (JavaScript off, as on
a cheap phone) registers and comments, and the organiser moderates, decides and publishes the results.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from eventreg.models import AuditEntry, Comment, Consultation, EventSession, Registration, User
from tests.auth_helpers import PASSWORD, make_user
from tests.browser import browser_page

pytestmark = pytest.mark.browser

BISHKEK = ZoneInfo("Asia/Bishkek")
ORGANISER_EMAIL = "aizada@alliance.kg"
ORGANISER_PASSWORD = "Мыйзамдарга өз көз карашыбыз 2030"

DRAFT = """\
key: national-strategy
languages: ru, ky, en
title.ru: Национальная стратегия по достижению гендерного равенства (проект)
title.ky: Гендердик теңчиликке жетүү боюнча улуттук стратегия (долбоор)
title.en: National Gender Equality Strategy (draft)

# 1
[ru] Анализ текущей ситуации
Текст раздела.
[ky] Учурдагы абалды талдоо
Бөлүмдүн тексти.
[en] Analysis of the current situation
Section text.

## 1.1
[ru] Правовая основа
Законы о гарантиях равных прав.
[ky] Укуктук негиз
Тең укуктардын кепилдиктери жөнүндө мыйзамдар.
[en] Legal basis
Laws on guarantees of equal rights.
"""


def local(value: datetime) -> str:
    """The value a datetime-local input takes, in Bishkek time like the organiser forms."""
    return value.astimezone(BISHKEK).strftime("%Y-%m-%dT%H:%M")


def log_in(page, base: str, email: str, password: str) -> None:
    page.goto(base + "/en/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.get_by_role("button", name="Log in").click()


def test_set_up_a_consultation_from_an_empty_database(live_server, db_session, tmp_path):
    admin = make_user(db_session, role="admin", email="admin@alliance.kg", name="Admin")
    base = live_server.url
    now = datetime.now(BISHKEK)
    draft = tmp_path / "national-strategy.md"
    draft.write_text(DRAFT, encoding="utf-8")

    with browser_page(javascript=False, phone=False, locale="en-GB") as page:
        page.set_default_timeout(5000)  # a missing element fails the test in seconds, not half a minute
        # --- the admin creates an organiser account ------------------------------------------------
        log_in(page, base, admin.email, PASSWORD)
        page.goto(base + "/en/admin/users")
        page.fill("#email", ORGANISER_EMAIL)
        page.fill("#name", "Айзада Орозбекова")
        page.select_option("#role", "organiser")
        page.fill("#password", ORGANISER_PASSWORD)
        page.fill("#confirm", ORGANISER_PASSWORD)
        page.get_by_role("button", name="Create account").click()
        expect(page.locator("table").first).to_contain_text(ORGANISER_EMAIL)
        page.get_by_role("button", name=f"Log out ({admin.email})").click()

        # --- the organiser logs in to an empty workspace and is led to create a consultation -----
        log_in(page, base, ORGANISER_EMAIL, ORGANISER_PASSWORD)
        expect(page).to_have_url(re.compile(r"/en/organiser/$"))
        expect(page.locator("main")).to_contain_text("Start by creating a consultation")
        page.locator("p.notice").get_by_role("link", name="New consultation").click()
        page.fill("#title_ru", "Национальная стратегия по достижению гендерного равенства до 2030 года")
        page.fill("#title_ky", "2030-жылга чейин гендердик теңчиликке жетүү боюнча улуттук стратегия")
        page.fill("#title_en", "National Gender Equality Strategy to 2030")
        page.fill("#slug", "Gender Strategy")  # a mistake first: spaces and capitals
        page.fill("#comments_open_at", local(now - timedelta(hours=1)))
        page.fill("#comments_close_at", local(now + timedelta(days=30)))
        page.get_by_role("button", name="Save").click()
        expect(page.locator("#slug-errors")).to_contain_text("Please use only small Latin letters")
        assert page.input_value("#title_ky").startswith("2030-жылга чейин")  # what was typed stays
        page.fill("#slug", "gender-strategy-2030")
        page.get_by_role("button", name="Save").click()
        expect(page).to_have_url(re.compile(r"/en/organiser/consultations$"))
        row = page.get_by_role("row", name="National Gender Equality Strategy to 2030")
        expect(row).to_contain_text("Open. Deadline:")

        # --- a session in three languages, two places, published -----------------------------------
        page.goto(base + "/en/organiser/")
        page.get_by_role("link", name="New session").first.click()
        page.select_option("#kind", "regional")
        page.select_option("#region", "KG-T")
        page.fill("#title_ru", "Региональная консультация в Таласе")
        page.fill("#title_ky", "Таластагы аймактык консультация")
        page.fill("#title_en", "Regional consultation in Talas")
        page.fill("#venue_en", "Talas, regional administration hall")
        start = (now + timedelta(days=10)).replace(hour=10, minute=0)
        page.fill("#starts_at", local(start))
        page.fill("#ends_at", local(start + timedelta(hours=6)))
        page.fill("#capacity", "2")
        for code in ("ru", "ky", "en"):
            page.check(f"#languages-{code}")
        page.get_by_role("button", name="Save").click()
        expect(page.locator("body")).to_contain_text("The session is saved as a draft")
        page.get_by_role("button", name="Publish", exact=True).click()
        expect(page.locator("body")).to_contain_text("participants can now see it and register")

        # --- the draft document, uploaded from a file -------------------------------------------
        page.goto(base + "/en/organiser/")
        page.locator("nav.workspace-links").get_by_role("link", name="Upload a document").click()
        page.set_input_files("#files", str(draft))
        page.get_by_role("button", name="Preview").click()
        expect(page.locator("h1")).to_have_text("Check the draft before it is stored")
        page.get_by_role("button", name="Store the document").click()
        expect(page).to_have_url(re.compile(r"/en/consultation/gender-strategy-2030/national-strategy$"))
        expect(page.locator("h1")).to_have_text("National Gender Equality Strategy (draft)")

        # --- a visitor, in a browser of their own, registers and comments -------------------------
        visitor = page.context.browser.new_context(java_script_enabled=False, locale="en-GB")
        public = visitor.new_page()
        public.set_default_timeout(5000)
        public.goto(base + "/en/")
        public.get_by_role("link", name="Regional consultation in Talas").click()
        expect(public.locator("main")).to_contain_text("2 places left")
        public.fill("#full_name", "Гүлнара Асанова")
        public.fill("#email", "gulnara@example.kg")
        public.fill("#organisation", "Талас облустук аялдар кеңеши")
        public.fill("#position", "Төрайым")
        public.select_option("#sector", "civil_society")
        public.select_option("#region", "KG-T")
        public.check("input[name=sex][value=female]")
        public.select_option("#interpretation_language", "ky")
        public.check("#consent")
        public.get_by_role("button", name="Register").click()
        expect(public).to_have_url(re.compile(r"/en/r/[^/]+$"))
        public.get_by_role("link", name="Read and comment on the drafts").click()
        expect(public.locator("main")).to_contain_text("You are commenting as Гүлнара Асанова")
        public.get_by_role("link", name="Comment on 1.1").click()
        public.check("input[name=kind][value=amendment]")
        public.fill("#body", "Добавить закон о профилактике семейного насилия.")
        public.fill("#proposed_wording", "Законы о гарантиях равных прав и о профилактике семейного насилия.")
        assert public.input_value("#name") == "Гүлнара Асанова"  # carried over from the registration
        if not public.is_checked("#consent"):
            public.check("#consent")
        public.locator("form button.primary").click()
        expect(public).to_have_url(re.compile(r"/received(#form-heading)?$"))  # the form opens at its heading
        expect(public.locator("main")).to_contain_text("Добавить закон о профилактике семейного насилия.")

        # --- the organiser publishes the comment, decides on it and publishes the results ---------
        page.goto(base + "/en/organiser/")
        page.locator("nav.workspace-links").get_by_role("link", name="Moderation").click()
        row = page.get_by_role("row").filter(has_text="профилактике семейного насилия")
        expect(row).to_have_count(1)
        expect(row).to_contain_text("Гүлнара Асанова")
        opened = row.get_by_role("link", name="Open").get_attribute("href")
        row.get_by_role("button", name="Publish").click()
        # published, it leaves the queue of new comments
        expect(page.get_by_role("row").filter(has_text="профилактике семейного насилия")).to_have_count(0)
        page.goto(base + opened)
        expect(page.locator("dl.meta")).to_contain_text("Published")
        page.check("input[name=decision][value=accepted]")
        page.fill("#justification_en", "The law on domestic violence prevention is added to 1.1.")
        page.get_by_role("button", name="Record the decision").click()
        expect(page.locator("body")).to_contain_text("The decision is recorded.")
        decided = page.locator("section[aria-labelledby=h-decision] dl.meta")
        expect(decided).to_contain_text("Accepted")
        expect(decided).to_contain_text("Айзада Орозбекова")  # who decided

        page.goto(base + "/en/organiser/")
        page.locator("nav.workspace-links").get_by_role("link", name="Reports").click()
        page.get_by_role("link", name="Public results pages").click()
        page.get_by_role("row", name="National Gender Equality Strategy (draft)").get_by_role(
            "button", name="Publish results"
        ).click()
        expect(page.locator("body")).to_contain_text("The results page is now public.")

        # --- the visitor reads the decision on the public results page ---------------------------
        public.goto(base + "/en/consultation/gender-strategy-2030/national-strategy")
        public.get_by_role("link", name="What we heard and what was decided").click()
        expect(public).to_have_url(re.compile(r"/en/results/gender-strategy-2030/national-strategy$"))
        results = public.locator("main").inner_text()
        assert "Legal basis" in results
        assert "Decision: Accepted" in results
        assert "The law on domestic violence prevention is added to 1.1." in results
        assert "Гүлнара Асанова" not in results  # she did not agree to be named
        visitor.close()

    # what a person cannot see, checked in the rows: who did what, and that it all belongs together
    db_session.expire_all()
    organiser = db_session.scalars(select(User).where(User.email == ORGANISER_EMAIL)).one()
    consultation = db_session.scalars(select(Consultation)).one()
    event = db_session.scalars(select(EventSession)).one()
    assert (event.consultation_id, event.capacity, event.status) == (consultation.id, 2, "published")
    assert event.languages == ["ru", "ky", "en"]
    registration = db_session.scalars(select(Registration)).one()
    comment = db_session.scalars(select(Comment)).one()
    assert (comment.status, comment.decision, comment.registration_id) == (
        "published",
        "accepted",
        registration.id,
    )
    actions = {
        (e.user_id, e.action)
        for e in db_session.scalars(select(AuditEntry).where(AuditEntry.user_id.isnot(None)))
    }
    assert {
        (organiser.id, "consultation.create"),
        (organiser.id, "session.create"),
        (organiser.id, "session.publish"),
    } <= actions
