"""The notifier's dependencies: settings and its adapters, built once at start-up.

`NotifierDeps` is passed first to every use case and message handler
(docs/kernel.md, "Use cases and their dependencies"): the SMTP sender, the template
renderer and identity's recipient lookup are its own adapters.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

import asyncpg
from fastapi import Depends

from bibmon_common.clock import Clock
from bibmon_common.deps import ServiceDeps, deps_of, event_source
from bibmon_notifier.config import NotifierSettings
from bibmon_notifier.mail import SmtpSender
from bibmon_notifier.recipients import IdentityClient
from bibmon_notifier.rendering import Renderer

SERVICE = "notifier"


@dataclass(frozen=True, kw_only=True)
class NotifierDeps(ServiceDeps):
    """What the notifier's use cases need besides the pool and the clock."""

    settings: NotifierSettings
    # Renders a template in a locale (HTML and text).
    renderer: Renderer
    # Hands a message to the SMTP relay.
    sender: SmtpSender
    # Asks identity who receives a survey's e-mails for an organisation, at send time.
    recipients: IdentityClient


def build_deps(settings: NotifierSettings) -> Callable[[asyncpg.Pool, Clock], NotifierDeps]:
    """The factory `create_service_app` calls once the pool is open."""

    def build(pool: asyncpg.Pool, clock: Clock) -> NotifierDeps:
        return NotifierDeps(
            pool=pool,
            clock=clock,
            source=event_source(SERVICE),
            settings=settings,
            renderer=Renderer(support_address=settings.support_address),
            sender=SmtpSender(settings),
            recipients=IdentityClient(settings),
        )

    return build


Deps = Annotated[NotifierDeps, Depends(deps_of)]
