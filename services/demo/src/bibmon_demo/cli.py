"""`bibmon-demo seed`: the demo surveys and the closed one's answers, once the services run.

Reads each service's own settings from the environment (`BIBMON_SURVEYS_DATABASE_URL`,
`BIBMON_RESPONSES_DATABASE_URL`, ...), as the services themselves do, and refuses to run
where a service's demo data is off (`LOAD_DEMO_DATA=false`, and always in production).
"""

from __future__ import annotations

import argparse
import asyncio
import sys

import structlog

from bibmon_common.clock import clock_from_settings
from bibmon_common.db import create_pool
from bibmon_common.logging import configure_logging
from bibmon_demo import responses, surveys
from bibmon_responses.config import ResponsesSettings
from bibmon_surveys.config import SurveysSettings
from bibmon_surveys.deps import build_deps

log = structlog.get_logger(__name__)


async def seed(*, settle_seconds: float, wait_seconds: float) -> int:
    """Surveys first (their publication reaches responses as an ordinary event), then the
    closed survey's answers. 0 when the demo data is there, 1 when it could not be made."""
    surveys_settings = SurveysSettings()
    responses_settings = ResponsesSettings()
    off = [
        name
        for name, settings in (("surveys", surveys_settings), ("responses", responses_settings))
        if not settings.demo_enabled
    ]
    if off:
        print(f"demo data is off for {', '.join(off)} (LOAD_DEMO_DATA)", file=sys.stderr)
        return 1
    surveys_pool = await create_pool(surveys_settings.database_url)
    try:
        deps = build_deps(surveys_settings)(surveys_pool, clock_from_settings(surveys_settings))
        created = await surveys.seed_when_ready(
            deps, settle_seconds=settle_seconds, wait_seconds=wait_seconds
        )
        ready = await surveys.seeded(deps)
    finally:
        await surveys_pool.close()
    if not ready:
        print("the demo surveys could not be created (see the log)", file=sys.stderr)
        return 1
    responses_pool = await create_pool(responses_settings.database_url)
    try:
        if created:
            # Wait for the publication this run sent to reach responses.
            answered = await responses.seed_when_ready(responses_pool, wait_seconds=wait_seconds)
        else:
            # Surveys had them already: fill in what an interrupted run left out, if anything.
            answered = await responses.seed(responses_pool)
            if answered is None:
                log.warning("demo.skipped", reason="responses does not know the closed survey")
                answered = 0
    finally:
        await responses_pool.close()
    if answered is None:
        print("responses did not learn the demo closed survey in time", file=sys.stderr)
        return 1
    return 0


def main() -> None:
    """Entry point of the bibmon-demo command."""
    parser = argparse.ArgumentParser(prog="bibmon-demo", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    seed_parser = commands.add_parser("seed", help="seed the demo data into empty databases")
    seed_parser.add_argument(
        "--settle-seconds",
        type=float,
        default=2.0,
        help="the organisation read model counts as complete once unchanged this long",
    )
    seed_parser.add_argument(
        "--wait-seconds", type=float, default=300.0, help="give up after this long"
    )
    args = parser.parse_args()
    configure_logging("demo", "INFO", False)
    sys.exit(asyncio.run(seed(settle_seconds=args.settle_seconds, wait_seconds=args.wait_seconds)))
