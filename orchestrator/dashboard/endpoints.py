"""``GET /dashboard``: the campaign dashboard, a page and its assets from the installed package.

The page holds no data: its script asks the API with the key typed into it. A strict policy
keeps anything but the package's own script and style from running on the page.
"""

from __future__ import annotations

from importlib import resources

from fastapi import APIRouter
from fastapi.responses import Response

from orchestrator.exceptions import NotFound

router = APIRouter(include_in_schema=False)

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "base-uri 'none'",
        # The sign-in form is never sent anywhere, where the key could end up in a URL.
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}
# The assets the page loads, by name, and their types: nothing else is served.
ASSETS = {
    "app.js": "text/javascript; charset=utf-8",
    "app.css": "text/css; charset=utf-8",
}


def static_file(name: str) -> bytes:
    return resources.files("orchestrator.dashboard").joinpath("static", name).read_bytes()


def _answer(name: str, media_type: str) -> Response:
    return Response(static_file(name), media_type=media_type, headers=SECURITY_HEADERS)


@router.get("/dashboard")
def dashboard() -> Response:
    return _answer("index.html", "text/html; charset=utf-8")


@router.get("/dashboard/assets/{name}")
def dashboard_asset(name: str) -> Response:
    media_type = ASSETS.get(name)
    if media_type is None:
        raise NotFound("Not Found")
    return _answer(name, media_type)
