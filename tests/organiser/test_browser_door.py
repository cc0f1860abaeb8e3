"""The door page in a real phone-sized browser, without JavaScript: the person just checked in stays on screen."""

from __future__ import annotations

from datetime import timedelta

from tests.auth_helpers import PASSWORD, make_user
from tests.browser import browser_page
from tests.factories import make_event_session, make_registration, now

NAMES = [
    "Абдыкадырова Айгүл",
    "Асанов Нурлан",
    "Бакиева Гүлнара",
    "Бейшеналиев Эрмек",
    "Жолдошева Динара",
    "Жумабаев Канат",
    "Исакова Жылдыз",
    "Калыкова Нургүл",
    "Кенжебаев Азамат",
    "Мамытова Чолпон",
    "Медербеков Талант",
    "Назарова Айпери",
    "Омурбекова Сезим",
    "Өмүрзаков Бакыт",
    "Сагынбаева Элмира",
    "Садыков Марат",
    "Токтогулова Айнура",
    "Токторов Улан",
    "Турдубаева Мээрим",
    "Үсөнов Нурбек",
    "Усубалиева Бермет",
    "Шаршеева Асел",
    "Эркинбеков Данияр",
    "Эсенова Бегимай",
    "Юсупова Камила",
    "Ярматова Зарина",
    "Алиева Салтанат",
    "Дуйшеева Назгүл",
    "Кадыров Руслан",
    "Рыскулова Аида",
]


def test_after_checking_in_the_eighth_of_thirty_that_row_is_on_screen(live_server, db_session, tmp_path):
    start = now() + timedelta(hours=1)
    event = make_event_session(db_session, capacity=40, starts_at=start, ends_at=start + timedelta(hours=6))
    for name in NAMES:
        make_registration(db_session, event, full_name=name, organisation="Жарандык коом уюму «Үмүт»")
    organiser = make_user(db_session, role="organiser")
    with browser_page(javascript=False, locale="ky-KG") as page:
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(live_server.url + "/ky/login")
        page.fill("input[name=email]", organiser.email)
        page.fill("input[name=password]", PASSWORD)
        page.locator("form:has(input[name=password]) button[type=submit]").click()
        page.goto(f"{live_server.url}/ky/organiser/sessions/{event.id}/door")
        eighth = page.locator(".door-row").nth(7)
        name = eighth.locator("strong").inner_text()
        eighth.locator("button").click()
        page.wait_for_load_state()
        row = page.locator(".door-row.is-done")
        assert row.locator("strong").inner_text() == name
        assert row.locator("button").inner_text()  # now the undo button
        box = row.bounding_box()
        bar = page.locator(".door-bar").bounding_box()
        assert box is not None and bar is not None
        assert box["y"] >= bar["y"] + bar["height"] - 1  # not under the sticky search bar
        assert box["y"] + box["height"] <= 844  # and not below the fold
        page.screenshot(path=str(tmp_path / "door-390.png"))
