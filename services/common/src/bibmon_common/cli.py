"""The same command line for every service: `bibmon-<service> migrate|serve|replay-parked`."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable, Sequence
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
    replay = sub.add_parser(
        "replay-parked",
        help="move parked messages back into their queue, each with its full retries again",
    )
    replay.add_argument(
        "--queue",
        action="append",
        required=True,
        help=f"a work queue of this service (e.g. {service}.events); repeatable",
    )
    replay.add_argument(
        "--type",
        dest="types",
        action="append",
        default=[],
        help="replay only this message type; repeatable",
    )
    replay.add_argument(
        "--dry-run", action="store_true", help="list what would be replayed, change nothing"
    )
    args = parser.parse_args()

    settings = settings_factory()
    if args.command == "migrate":
        configure_logging(service, settings.log_level, settings.log_json)
        run_migrations(migrations_dir, settings.database_url)
        return
    if args.command == "replay-parked":
        configure_logging(service, "WARNING", settings.log_json)
        sys.exit(
            asyncio.run(
                replay_parked_command(
                    service, settings.amqp_url, args.queue, args.types, dry_run=args.dry_run
                )
            )
        )
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


async def replay_parked_command(
    service: str,
    amqp_url: str,
    queues: Sequence[str],
    types: Sequence[str],
    *,
    dry_run: bool,
) -> int:
    """Replay (or list) the parking queues of `queues`; print one line per message."""
    from bibmon_common.messaging.broker import Broker
    from bibmon_common.messaging.replay import replay_parked

    broker = Broker(amqp_url, connection_name=f"bibmon-{service} replay-parked")
    await broker.connect()
    try:
        for queue in queues:
            report = await replay_parked(broker, queue, types=types, dry_run=dry_run)
            verb = "would replay" if dry_run else "replayed"
            for m in report.replayed:
                print(
                    f"{verb}\t{queue}\t{m.message_id}\t{m.type}\treason={m.reason}"
                    + (f"\terror={m.error}" if m.error else "")
                )
            print(
                f"{queue}: {verb} {len(report.replayed)}, left parked {len(report.kept)}"
                + (" (dry run: nothing changed)" if dry_run else "")
            )
    finally:
        await broker.close()
    return 0
