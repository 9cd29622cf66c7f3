"""Example KB system: receive `reporting.dataset.published.v1` and verify every file.

Binds its own durable queue `kb-export.datasets` to the `bibmon.exports` topic exchange
(the read-only user `kb-export` may only create and read `kb-export.*` queues), then for
each event downloads every file from its public URL and checks the SHA-256 and size the
event gives. Only the standard library and aio-pika; no Bibliotheekmonitor code.

    AMQP_URL=amqp://kb-export:…@host:5672/bibmon python consumer.py [--once]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import urllib.request
from typing import Any

import aio_pika

EXCHANGE = "bibmon.exports"
ROUTING_KEY = "reporting.dataset.published.v1"
QUEUE = "kb-export.datasets"


def download(url: str, timeout: float = 60.0) -> bytes:
    """The file at `url` (public: no login)."""
    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - https/http only
        body: bytes = response.read()
        return body


def verify(data: dict[str, Any]) -> list[str]:
    """Download every file of the event; return the problems found (empty: all good)."""
    problems = []
    for file in data["files"]:
        content = download(file["url"])
        digest = hashlib.sha256(content).hexdigest()
        if digest != file["sha256"]:
            problems.append(f"{file['kind']}: sha256 {digest} != {file['sha256']}")
        if len(content) != file["byte_size"]:
            problems.append(f"{file['kind']}: {len(content)} bytes != {file['byte_size']}")
    return problems


async def handle(message: aio_pika.abc.AbstractIncomingMessage) -> dict[str, Any]:
    """Verify one event; ack when its files check out, else reject it (dead-letter it)."""
    envelope = json.loads(message.body)
    data = envelope["data"]
    # Downloads block: run them off the event loop.
    problems = await asyncio.to_thread(verify, data)
    if problems:
        await message.reject(requeue=False)
    else:
        await message.ack()
    return {
        "event_id": envelope["id"],
        "survey_id": data["survey_id"],
        "dataset_version": data["dataset_version"],
        "row_count": data["row_count"],
        "verified": not problems,
        "problems": problems,
    }


async def run(amqp_url: str, *, once: bool = False) -> list[dict[str, Any]]:
    """Consume until interrupted (or, with `once`, until the queue is empty)."""
    connection = await aio_pika.connect_robust(amqp_url)
    results: list[dict[str, Any]] = []
    async with connection:
        channel = await connection.channel()
        await channel.set_qos(prefetch_count=1)
        queue = await channel.declare_queue(QUEUE, durable=True)
        await queue.bind(EXCHANGE, routing_key=ROUTING_KEY)
        if once:
            while (message := await queue.get(fail=False, timeout=5)) is not None:
                results.append(await handle(message))
            return results
        async with queue.iterator() as messages:
            async for message in messages:
                result = await handle(message)
                print(json.dumps(result), flush=True)
    return results


def main() -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--once", action="store_true", help="empty the queue, then stop")
    args = parser.parse_args()
    url = os.environ.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
    for result in asyncio.run(run(url, once=args.once)):
        print(json.dumps(result))


if __name__ == "__main__":
    main()
