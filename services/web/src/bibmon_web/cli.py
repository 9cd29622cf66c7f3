"""`bibmon-web serve`: the web client has no database, so no `migrate`."""

from __future__ import annotations

import argparse
import os


def main() -> None:
    """Entry point of the bibmon-web command."""
    parser = argparse.ArgumentParser(prog="bibmon-web")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the web pages")
    serve.add_argument("--host", default=os.environ.get("BIBMON_HOST", "0.0.0.0"))  # noqa: S104
    serve.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8106")))
    sub.add_parser("migrate", help="nothing to do: the web client keeps no data")
    args = parser.parse_args()
    if args.command == "migrate":
        return
    import uvicorn

    uvicorn.run(
        "bibmon_web.main:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        log_config=None,
        proxy_headers=True,
        # The client address (passed on to identity's throttling) only from the gateway.
        forwarded_allow_ips=os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
        timeout_graceful_shutdown=20,
    )
