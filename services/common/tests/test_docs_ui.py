"""The API docs page works under the gateway's CSP: self-hosted files, no inline script."""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi import FastAPI

from bibmon_common.docs_ui import install_docs, swagger_ui_dir


def _app() -> FastAPI:
    app = FastAPI(openapi_url="/api/demo/openapi.json", docs_url=None, redoc_url=None)
    install_docs(app, "/api/demo", "Demo")
    return app


@pytest.mark.asyncio(loop_scope="session")
async def test_docs_page_loads_only_own_files_and_no_inline_script() -> None:
    transport = httpx.ASGITransport(app=_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
        page = await client.get("/api/demo/docs")
        assert page.status_code == 200
        html = page.text
        sources = re.findall(r'(?:src|href)="([^"]+)"', html)
        assert sources, html
        assert all(s.startswith("/api/demo/") for s in sources), sources
        # Every <script> has a src and no body: `script-src 'self'` allows nothing inline.
        assert re.findall(r"<script[^>]*>([^<]*)</script>", html) == [""] * html.count("<script")
        assert 'data-openapi-url="/api/demo/openapi.json"' in html
        init = await client.get("/api/demo/docs/assets/init.js")
        assert init.status_code == 200
        assert "SwaggerUIBundle" in init.text
        assert init.headers["content-type"].startswith("text/javascript")


@pytest.mark.asyncio(loop_scope="session")
async def test_docs_assets_come_from_swagger_ui_dist_and_nothing_else_of_node_modules() -> None:
    if not (swagger_ui_dir() / "swagger-ui-bundle.js").is_file():
        pytest.skip("swagger-ui-dist not installed (make install runs npm ci)")
    transport = httpx.ASGITransport(app=_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
        bundle = await client.get("/api/demo/docs/assets/swagger-ui-bundle.js")
        assert bundle.status_code == 200
        assert len(bundle.content) > 100_000
        css = await client.get("/api/demo/docs/assets/swagger-ui.css")
        assert css.status_code == 200
        assert css.headers["content-type"].startswith("text/css")
        # `img-src 'self'` refuses data: images: the stylesheet points at served files.
        assert "data:" not in css.text
        assert 'url("image-0")' in css.text
        icon = await client.get("/api/demo/docs/assets/image-0")
        assert icon.status_code == 200
        assert icon.headers["content-type"].startswith("image/")
        assert (await client.get("/api/demo/docs/assets/image-999")).status_code == 404
        for name in ("package.json", "..%2Fpackage.json", "index.html"):
            assert (await client.get(f"/api/demo/docs/assets/{name}")).status_code == 404
