import csv
import io

from eventreg.collation import sort_key


def test_kyrgyz_letters_sort_inside_the_alphabet_not_after_ya():
    names = ["Яковлева", "Үсөнова", "Уланова", "Өмүрбекова", "Орозова", "Ңаа", "Нурланова", "Ёлкина", "Ерлан"]
    assert sorted(names, key=sort_key) == [
        "Ерлан",
        "Ёлкина",
        "Нурланова",
        "Ңаа",
        "Орозова",
        "Өмүрбекова",
        "Уланова",
        "Үсөнова",
        "Яковлева",
    ]


def test_case_and_spaces_do_not_matter_and_latin_comes_first():
    assert sorted(["айгүл", " Айбек", "Zhyldyz", "Азамат"], key=sort_key) == [
        "Zhyldyz",
        "Азамат",
        " Айбек",
        "айгүл",
    ]
    assert sort_key("Айгүл") == sort_key("  айгүл ")


NAMES = ["Үсөнова Жыпар", "Яковлева Ольга", "Уланова Асель", "Өмүрбекова Айнура", "Орозова Бермет"]
IN_ORDER = ["Орозова Бермет", "Өмүрбекова Айнура", "Уланова Асель", "Үсөнова Жыпар", "Яковлева Ольга"]


def _positions(text: str, names: list[str]) -> list[int]:
    return [text.index(name) for name in names]


def test_door_list_and_participant_download_are_in_alphabet_order(client, app, db_session):
    from tests.auth_helpers import login_as, make_user
    from tests.factories import make_event_session, make_registration

    event = make_event_session(db_session, capacity=10)
    for name in NAMES:
        make_registration(db_session, event, full_name=name)
    login_as(client, app, make_user(db_session, role="organiser"))

    door = client.get(f"/ru/organiser/sessions/{event.id}/door").get_data(as_text=True)
    assert _positions(door, IN_ORDER) == sorted(_positions(door, IN_ORDER))

    response = client.get(f"/ru/reports/participants.csv?session={event.id}")
    header, *rows = csv.reader(io.StringIO(response.get_data().decode("utf-8-sig")))
    name_column = header.index("ФИО")  # the full-name column, wherever the export puts it
    names = [row[name_column] for row in rows]
    assert names == IN_ORDER
