"""A fourth language (Uzbek, for the southern oblasts) is one line in eventreg/config.py plus a catalogue.

Run in a fresh interpreter, because the line has to be there before the app's modules are imported,
exactly as it would be after editing the file.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

from eventreg.config import PROJECT_ROOT

SCRIPT = textwrap.dedent(
    """
    import sys
    import eventreg.config as config
    config.LANGUAGES["uz"] = "Oʻzbekcha"  # the one line

    import eventreg.models  # noqa
    from sqlalchemy import create_engine
    from eventreg import create_app
    from eventreg.db import Base
    from eventreg.organiser.forms import SessionForm

    url = "sqlite:///" + sys.argv[1]
    Base.metadata.create_all(create_engine(url))
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": url})
    client = app.test_client()
    root = client.get("/", headers={"Accept-Language": "uz-UZ,uz;q=0.9"})
    assert root.headers["Location"].endswith("/uz/"), root.headers["Location"]
    page = client.get("/uz/").get_data(as_text=True)
    assert '<html lang="uz">' in page
    assert 'href="/ky/"' in page and "Oʻzbekcha" in page
    assert client.get("/uz/privacy").status_code == 200
    with app.test_request_context("/uz/"):
        assert "title_uz" in SessionForm()._fields
    print("ok")
    """
)


def test_a_fourth_language_is_one_line_of_configuration(tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path / "uz.sqlite3")],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith("ok")
