"""Browser tests: Debian's Chromium, driven by Playwright, against the whole platform.

The platform is started the way `make run` starts it (scripts/devstack.py, through the
journey tests' `platform` fixture). Every page a test visits is checked with axe-core
(no serious or critical violation) and for Content-Security-Policy violations, and
screenshots of the main pages (1280 px and 320 px wide) go to var/screenshots/.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    expect,
    sync_playwright,
)
from tests.e2e.conftest import AdminSetup

ROOT = Path(__file__).resolve().parents[3]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "var" / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
NARROW = {"width": 320, "height": 640}

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def browser(platform: Any) -> Iterator[Browser]:
    # After the platform (the journey tests' stack, from tests/e2e/conftest.py):
    # Playwright's sync API keeps an event loop running in this thread while it is open,
    # and the stack's set-up and tear-down use asyncio.run. Module scope closes it after
    # each browser module (these folders are no packages, so "package" would mean the
    # whole session), so the async tests after them find no loop running.
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: `make install` installs it (apt-get install chromium)")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Checked:
    """A browser context whose pages are checked for CSP violations and accessibility."""

    def __init__(
        self, context: BrowserContext, base_url: str, auditor: BrowserContext | None = None
    ) -> None:
        self.context = context
        self.base_url = base_url
        # Without JavaScript axe cannot run in the page itself: a JavaScript context with
        # the same cookies loads the same address for the audit.
        self.auditor = auditor
        self.csp_violations: list[str] = []
        self.page = self.new_page()

    def new_page(self) -> Page:
        page = self.context.new_page()

        def on_console(message: ConsoleMessage) -> None:
            if "Content Security Policy" in message.text or "Refused to" in message.text:
                self.csp_violations.append(f"{page.url}: {message.text} {message.location}")

        page.on("console", on_console)
        return page

    def goto(self, path: str) -> Page:
        self.page.goto(self.base_url + path)
        return self.page


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """Serious and critical axe-core violations of the page as it is now."""
    # page.evaluate runs through the DevTools protocol, which the page's CSP does not
    # govern; a <script> tag with axe's source would be (rightly) refused.
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;undefined")
    result = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))"
    )
    return [v for v in result if v["impact"] in ("serious", "critical")]


def check_page(checked: Checked, name: str | None = None, page: Page | None = None) -> None:
    """No serious/critical axe violation, no CSP violation; screenshots when named."""
    page = page or checked.page
    page.wait_for_load_state("load")
    if checked.auditor is None:
        violations = axe_violations(page)
    else:
        checked.auditor.clear_cookies()
        checked.auditor.add_cookies(checked.context.cookies())  # type: ignore[arg-type]
        audit = checked.auditor.new_page()
        audit.goto(page.url)
        violations = axe_violations(audit)
        audit.close()
    assert not violations, f"{page.url}: {json.dumps(violations, indent=1)}"
    assert not checked.csp_violations, checked.csp_violations
    if name:
        shoot(page, name)


def shoot(page: Page, name: str) -> None:
    """Full-page screenshots at desktop width and at 320 px."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    safe = re.sub(r"[^a-z0-9-]+", "-", name.lower())
    original = page.viewport_size or DESKTOP
    for label, size in (("desktop", DESKTOP), ("320", NARROW)):
        page.set_viewport_size(size)
        page.screenshot(path=str(SCREENSHOTS / f"{safe}-{label}.png"), full_page=True)
        if label == "320":
            # Nothing may stick out sideways at 320 px (WCAG 1.4.10 reflow).
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 1, f"{name}: {overflow} px horizontal scroll at 320 px"
    page.set_viewport_size(original)


@pytest.fixture
def new_context(browser: Browser, platform: Any) -> Iterator[Any]:
    """Make checked browser contexts (closed after the test)."""
    contexts: list[BrowserContext] = []

    def make(*, javascript: bool = True) -> Checked:
        context = browser.new_context(
            viewport=DESKTOP, java_script_enabled=javascript, locale="nl-NL"
        )
        context.set_default_timeout(20_000)
        contexts.append(context)
        auditor = None
        if not javascript:
            auditor = browser.new_context(viewport=DESKTOP, locale="nl-NL")
            contexts.append(auditor)
        return Checked(context, platform.url, auditor)

    yield make
    for context in contexts:
        context.close()


@pytest.fixture(scope="module")
def admin(browser: Browser, platform: Any) -> dict[str, str]:
    """The bootstrap KB administrator's first login, in the browser: "Account instellen"
    (e-mail address and an own password), then TOTP enrolment.

    Replaces the journey tests' API-only fixture of the same name for the browser tests.
    There is one first login per platform: whichever fixture comes first does it and
    keeps the result on the platform for the other.
    """
    if platform.admin_setup is not None:
        return platform.admin_setup
    context = browser.new_context(viewport=DESKTOP, locale="nl-NL")
    context.set_default_timeout(20_000)
    try:
        checked = Checked(context, platform.url)
        page = checked.goto("/inloggen")
        page.get_by_label("Gebruikersnaam").fill("admin")
        page.get_by_label("Wachtwoord").fill(platform.admin_password)
        page.get_by_role("button", name="Inloggen").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Account instellen")
        check_page(checked, "account-instellen")
        # The start password is refused as the own password.
        page.get_by_label("E-mailadres").fill("beheer@kb.example.nl")
        page.get_by_label("Nieuw wachtwoord", exact=True).fill("kort")
        page.get_by_label("Herhaal het nieuwe wachtwoord").fill("kort")
        page.get_by_role("button", name="Opslaan en verder").click()
        expect(page.locator("#new_password-fout")).to_be_visible()
        expect(page.get_by_label("E-mailadres")).to_have_value("beheer@kb.example.nl")
        check_page(checked)
        own_password = f"eigen beheerderswachtwoord {uuid.uuid4().hex[:8]}"
        page.get_by_label("Nieuw wachtwoord", exact=True).fill(own_password)
        page.get_by_label("Herhaal het nieuwe wachtwoord").fill(own_password)
        page.get_by_role("button", name="Opslaan en verder").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Tweestapsverificatie")
        platform.admin_password = own_password
        page.get_by_role("button", name="Tweestapsverificatie instellen").click()
        secret = page.locator(".bm-secret").inner_text().strip()
        page.get_by_label("Code").fill(pyotp.TOTP(secret).now())
        page.get_by_role("button", name="Bevestigen").click()
        expect(page.get_by_role("status")).to_contain_text("Tweestapsverificatie staat aan.")
        cookies = {c["name"].rsplit("_", 1)[-1]: c["value"] for c in context.cookies()}
        platform.admin_setup = AdminSetup(platform, secret, cookies["access"], cookies["refresh"])
        return platform.admin_setup
    finally:
        context.close()
