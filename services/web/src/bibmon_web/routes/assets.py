"""Static files: our own CSS and scripts, and the npm packages of package-lock.json.

Only a fixed list of vendor files is served (no directory listing of node_modules).
Everything comes from this origin, as the gateway's Content-Security-Policy demands.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse

from bibmon_web.config import WebSettings

router = APIRouter(include_in_schema=False)

OWN = Path(__file__).resolve().parents[1] / "static"
# Public name → path inside node_modules.
VENDOR = {
    "utrecht-components.css": "@utrecht/component-library-css/dist/index.css",
    "utrecht-tokens.css": "@utrecht/design-tokens/dist/index.css",
    "htmx.min.js": "htmx.org/dist/htmx.min.js",
}
MEDIA = {".css": "text/css", ".js": "text/javascript", ".svg": "image/svg+xml"}
CACHE = {"Cache-Control": "public, max-age=3600"}


@router.get("/static/vendor/{name}")
async def vendor(name: str, request: Request) -> FileResponse:
    settings: WebSettings = request.app.state.settings
    relative = VENDOR.get(name)
    if relative is None:
        raise HTTPException(404)
    path = settings.assets_dir / relative
    if not path.is_file():
        raise HTTPException(404)
    return FileResponse(path, media_type=MEDIA.get(path.suffix), headers=CACHE)


@router.get("/static/{name}")
async def own(name: str) -> FileResponse:
    path = OWN / name
    if "/" in name or name.startswith(".") or not path.is_file():
        raise HTTPException(404)
    return FileResponse(path, media_type=MEDIA.get(path.suffix), headers=CACHE)
