"""A service's real app served over HTTP by uvicorn in a thread of its own (own event
loop, own fresh database), for tools that call it synchronously (schemathesis)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import importlib
import socket
import threading
from collections.abc import Iterator
from typing import Any

import uvicorn
from tests.security.services import settings_for

from bibmon_common.auth import JWTVerifier
from bibmon_common.projections import is_session_revoked
from bibmon_common.testing.db import fresh_database
from bibmon_common.testing.tokens import TestKeys


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def served(service: str, keys: TestKeys) -> Iterator[str]:
    """Serve the service on loopback; yield its base URL; stop and drop the database."""
    port = _free_port()
    ready = threading.Event()
    stop = threading.Event()
    failure: list[BaseException] = []

    async def main() -> None:
        module = importlib.import_module(f"bibmon_{service}.main")
        async with fresh_database(
            f"bibmon_sec_{service}", migrations_dir=module.MIGRATIONS_DIR
        ) as dsn:
            app = module.create_app(settings_for(service, dsn))

            async def keys_of_the_test(ctx: Any) -> None:
                app.state.jwt_verifier = JWTVerifier(
                    keys.provider,
                    issuer=keys.issuer,
                    audience=keys.audience,
                    revoked=functools.partial(is_session_revoked, ctx.pool),
                )

            config = uvicorn.Config(
                app, host="127.0.0.1", port=port, log_config=None, lifespan="on"
            )
            server = uvicorn.Server(config)
            task = asyncio.create_task(server.serve())
            while not server.started:
                if task.done():
                    task.result()
                await asyncio.sleep(0.05)
            await keys_of_the_test(app.state.ctx)
            ready.set()
            await asyncio.to_thread(stop.wait)
            server.should_exit = True
            await task

    def run() -> None:
        try:
            asyncio.run(main())
        except BaseException as exc:
            failure.append(exc)
            ready.set()

    thread = threading.Thread(target=run, name=f"served-{service}", daemon=True)
    thread.start()
    ready.wait(90)
    if failure:
        raise failure[0]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop.set()
        thread.join(60)
