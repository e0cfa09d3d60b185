"""The web pages: /play (a game client over /v1) and /dashboard (live numbers from Trino).

Plain HTML, CSS and JavaScript served by the API itself, so both pages share
its origin (no CORS) and its ingress. The pages hold no secrets and run no
inline script, which lets a strict Content-Security-Policy apply.
"""

import orjson
from flask import Blueprint, Flask, Response, current_app, render_template, request

from questline_api.publishing import EXTENSION
from questline_api.web.dashboard import DashboardData, utc_now

bp = Blueprint("web", __name__, template_folder="templates", static_folder="static", static_url_path="/web/static")

_DASHBOARD = "questline_web_dashboard"
# How often the dashboard page polls data.json (it never polls faster than the cache renews).
REFRESH_SECONDS = 5

_SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


@bp.record_once
def _attach_dashboard(setup) -> None:
    app: Flask = setup.app
    app.extensions[_DASHBOARD] = DashboardData(app.extensions[EXTENSION].settings)


@bp.after_request
def _secure(response: Response) -> Response:
    response.headers.update(_SECURITY_HEADERS)
    return response


@bp.get("/play")
def play() -> str:
    return render_template("play.html", api_base=request.script_root + "/v1")


@bp.get("/dashboard")
def dashboard() -> str:
    data: DashboardData = current_app.extensions[_DASHBOARD]
    refresh = max(REFRESH_SECONDS, data.settings.dashboard_cache_seconds)
    tables = f"{data.settings.trino_catalog}.{data.settings.database}"
    return render_template("dashboard.html", refresh_seconds=refresh, tables=tables)


@bp.get("/dashboard/data.json")
def dashboard_data() -> Response:
    """Always 200: when Trino cannot give numbers, `status` and `message` say why (the page shows it)."""
    data: DashboardData = current_app.extensions[_DASHBOARD]
    body = data.snapshot().to_json(utc_now(), data.settings)
    response = Response(orjson.dumps(body), mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response
