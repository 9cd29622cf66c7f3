"""Render the gateway's nginx templates the way `make run` does (string.Template).

    python3 deploy/nginx/render.py TEMPLATE OUTPUT NAME=VALUE ...

Only the placeholders of the two templates are substituted, with safe_substitute, so
nginx's own `$host`, `$request_id`, ... stay intact. Fails when a placeholder is left
over or a given name is not one of them. Standard library only.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from string import Template

SERVER_PLACEHOLDERS = frozenset(
    {
        "GATEWAY_PORT",
        "IDENTITY_UPSTREAM",
        "SURVEYS_UPSTREAM",
        "RESPONSES_UPSTREAM",
        "REPORTING_UPSTREAM",
        "NOTIFIER_UPSTREAM",
        "WEB_UPSTREAM",
        "TRUSTED_PROXY_CIDR",
        "API_RATE_LIMIT",
        "API_BURST",
        "AUTH_RATE_LIMIT",
        "AUTH_BURST",
    }
)
# The gateway's per-address limits when nobody sets them (make run, compose, the
# Kubernetes base): one address may be an office of 50 people behind NAT. API: 2 requests
# a second each on average, and all of them opening a page (about 10 requests) at once.
# Auth (login pages and /api/identity/auth/): 1 a second on average, and all 50 logging
# in at once (page, password, second factor); identity counts failed logins per account
# and per address behind it. docs/operations.md, "Gateway limits".
LIMIT_DEFAULTS = {
    "API_RATE_LIMIT": "100r/s",
    "API_BURST": "500",
    "AUTH_RATE_LIMIT": "60r/m",
    "AUTH_BURST": "150",
}
MAIN_PLACEHOLDERS = frozenset({"VAR_DIR", "SERVER_CONF", "MIME_TYPES"})
KNOWN = SERVER_PLACEHOLDERS | MAIN_PLACEHOLDERS
# An upper-case ${NAME} left in the output means a value was missing.
LEFTOVER = re.compile(r"\$\{[A-Z][A-Z0-9_]*\}")


def render(template: str, values: dict[str, str]) -> str:
    """Substitute the known placeholders; refuse unknown names and leftovers."""
    unknown = set(values) - KNOWN
    if unknown:
        raise ValueError(f"not a placeholder of the gateway templates: {sorted(unknown)}")
    if "$$" in template:
        raise ValueError("template contains '$$', which string.Template turns into '$'")
    out = Template(template).safe_substitute(values)
    left = sorted(set(LEFTOVER.findall(out)))
    if left:
        raise ValueError(f"placeholders without a value: {left}")
    return out


def main(argv: list[str]) -> int:
    """Command line entry point."""
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    source, target, *pairs = argv
    values = dict(pair.split("=", 1) for pair in pairs)
    try:
        text = render(Path(source).read_text(encoding="utf-8"), values)
    except ValueError as exc:
        print(f"render.py: {source}: {exc}", file=sys.stderr)
        return 1
    Path(target).write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
