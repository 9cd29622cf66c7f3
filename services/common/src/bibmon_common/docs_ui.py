"""Swagger UI at /api/<service>/docs, served by the service itself.

The gateway's Content-Security-Policy (`default-src 'self'`) blocks FastAPI's default
docs page: it loads Swagger UI from a CDN and starts it with an inline script. Here the
files come from the `swagger-ui-dist` npm package of the repository's package-lock.json
(`make install`; the image copies node_modules), and a small external script starts it.
The stylesheet's inline `data:` images (refused by `img-src 'self'`) are served as files.
"""

from __future__ import annotations

import base64
import functools
import os
import re
from html import escape
from pathlib import Path
from urllib.parse import unquote

from fastapi import FastAPI, HTTPException
from fastapi.responses import FileResponse, HTMLResponse, Response

# Only these files of the package are served (no directory listing of node_modules).
FILES = {
    "swagger-ui-bundle.js": "text/javascript",
    "favicon-32x32.png": "image/png",
}
CACHE = {"Cache-Control": "public, max-age=3600"}
INIT_JS = """\
// Starts Swagger UI from this external file: the gateway's CSP forbids inline scripts.
window.addEventListener("load", function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.getAttribute("data-openapi-url"),
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
});
"""


_CSS_URL = re.compile(r"""url\((?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|([^)'"]*))\)""")


@functools.lru_cache(maxsize=4)
def stylesheet(path: Path) -> tuple[str, tuple[tuple[str, bytes], ...]]:
    """swagger-ui.css with each `data:` image replaced by `image-<n>`, and those images."""
    images: list[tuple[str, bytes]] = []

    def replace(match: re.Match[str]) -> str:
        url = next(g for g in match.groups() if g is not None)
        if not url.startswith("data:"):
            return match.group(0)
        url = re.sub(r"\\(.)", r"\1", url)  # CSS string escapes (\")
        header, _, payload = url.partition(",")
        media_type = header[len("data:") :].split(";")[0] or "application/octet-stream"
        data = base64.b64decode(payload) if ";base64" in header else unquote(payload).encode()
        images.append((media_type, data))
        return f'url("image-{len(images) - 1}")'

    css = _CSS_URL.sub(replace, path.read_text(encoding="utf-8"))
    return css, tuple(images)


def swagger_ui_dir() -> Path:
    """node_modules/swagger-ui-dist of the repository (or of /app in the image)."""
    configured = os.environ.get("BIBMON_SWAGGER_UI_DIR")
    if configured:
        return Path(configured)
    # services/common/src/bibmon_common/docs_ui.py → the repository root (/app in images).
    return Path(__file__).resolve().parents[4] / "node_modules" / "swagger-ui-dist"


def install_docs(app: FastAPI, prefix: str, title: str) -> None:
    """GET {prefix}/docs and its assets under {prefix}/docs/assets/."""
    assets = f"{prefix}/docs/assets"
    openapi_url = f"{prefix}/openapi.json"

    @app.get(f"{prefix}/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        if not (swagger_ui_dir() / "swagger-ui-bundle.js").is_file():
            body = (
                f"<p>Swagger UI is not installed (run <code>make install</code>). "
                f'The API description is at <a href="{escape(openapi_url)}">'
                f"{escape(openapi_url)}</a>.</p>"
            )
        else:
            body = (
                f'<div id="swagger-ui" data-openapi-url="{escape(openapi_url)}"></div>'
                f'<script src="{assets}/swagger-ui-bundle.js"></script>'
                f'<script src="{assets}/init.js"></script>'
            )
        return HTMLResponse(
            "<!DOCTYPE html>"
            f'<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<link rel="stylesheet" href="{assets}/swagger-ui.css">'
            f'<link rel="icon" href="{assets}/favicon-32x32.png"></head>'
            f"<body>{body}</body></html>"
        )

    @app.get(f"{assets}/init.js", include_in_schema=False)
    async def init_js() -> Response:
        return Response(INIT_JS, media_type="text/javascript")

    @app.get(f"{assets}/swagger-ui.css", include_in_schema=False)
    async def css() -> Response:
        path = swagger_ui_dir() / "swagger-ui.css"
        if not path.is_file():
            raise HTTPException(404)
        return Response(stylesheet(path)[0], media_type="text/css", headers=CACHE)

    @app.get(f"{assets}/image-{{number}}", include_in_schema=False)
    async def image(number: int) -> Response:
        path = swagger_ui_dir() / "swagger-ui.css"
        images = stylesheet(path)[1] if path.is_file() else ()
        if not 0 <= number < len(images):
            raise HTTPException(404)
        media_type, data = images[number]
        return Response(data, media_type=media_type, headers=CACHE)

    @app.get(f"{assets}/{{name}}", include_in_schema=False)
    async def asset(name: str) -> FileResponse:
        media_type = FILES.get(name)
        path = swagger_ui_dir() / name
        if media_type is None or not path.is_file():
            raise HTTPException(404)
        return FileResponse(path, media_type=media_type, headers=CACHE)
