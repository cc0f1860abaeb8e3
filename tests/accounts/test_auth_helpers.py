"""The test login helper logs in for real: Flask-Login accepts the session it writes."""

from flask import Blueprint

from eventreg.accounts.auth import roles_required
from tests.auth_helpers import login_as, make_user
from tests.conftest import make_test_app


def test_login_as_passes_role_check_and_wrong_role_gets_403(database_url, tmp_path):
    app = make_test_app(database_url, tmp_path)
    bp = Blueprint("probe", __name__)

    @bp.get("/probe")
    @roles_required("organiser")
    def probe():
        return "ok"

    app.register_blueprint(bp)
    from eventreg.extensions import db

    with app.app_context():
        organiser = make_user(db.session, role="organiser")
        analyst = make_user(db.session, role="analyst")
    client = app.test_client()
    assert client.get("/probe").status_code in (302, 401)
    login_as(client, app, organiser)
    assert client.get("/probe").get_data(as_text=True) == "ok"
    other = app.test_client()
    login_as(other, app, analyst)
    assert other.get("/probe").status_code == 403
