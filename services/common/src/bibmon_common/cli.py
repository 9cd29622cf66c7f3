"""The same command line for every service: `bibmon-<service> migrate|serve`."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path

from bibmon_common.db import run_migrations
from bibmon_common.logging import configure_logging
from bibmon_common.settings import ServiceSettings


def run_cli(
    service: str,
    settings_factory: Callable[[], ServiceSettings],
    migrations_dir: Path,
    *,
    default_port: int,
) -> None:
    """Parse argv and migrate the service's database or serve it with uvicorn."""
    parser = argparse.ArgumentParser(prog=f"bibmon-{service}")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="upgrade the service's database to the latest schema")
    serve = sub.add_parser("serve", help="run the HTTP API, outbox relay and consumers")
    serve.add_argument("--host", default=os.environ.get("BIBMON_HOST", "0.0.0.0"))  # noqa: S104
    serve.add_argument("--port", type=int, default=int(os.environ.get("PORT", default_port)))
    args = parser.parse_args()

    settings = settings_factory()
    if args.command == "migrate":
        configure_logging(service, settings.log_level, settings.log_json)
        run_migrations(migrations_dir, settings.database_url)
        return
    import uvicorn

    uvicorn.run(
        f"bibmon_{service}.main:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        log_config=None,
        proxy_headers=True,
        # Trust X-Forwarded-For only from the gateway; otherwise anyone reaching a service
        # directly could pick the client address that login throttling counts.
        forwarded_allow_ips=os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
        timeout_graceful_shutdown=20,
    )
