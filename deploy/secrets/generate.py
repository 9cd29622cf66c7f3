"""Generate the credentials docker-compose.yml mounts as secrets (standard library only).

    python3 deploy/secrets/generate.py                 # writes deploy/secrets/local/
    python3 deploy/secrets/generate.py --out DIR       # elsewhere
    python3 deploy/secrets/generate.py --check-compose docker-compose.yml --out /tmp/x

Existing files are kept (the databases and the broker were initialised with them);
`--force` regenerates everything, after which the volumes must be recreated too.
Every value is random and URL-safe, so it can sit in a connection URL unescaped.
One file per secret; its name is what the service reads from /run/secrets
(pydantic-settings `secrets_dir`: the env var name in lower case).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import secrets
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
DEFINITIONS_TEMPLATE = REPO / "deploy" / "rabbitmq" / "definitions.json"

SERVICES = ("identity", "surveys", "responses", "reporting", "notifier")
# Which PostgreSQL server holds each service's database (docs/adr/0008).
DATABASE_SERVER = {
    "identity": "postgres-identity",
    "responses": "postgres-responses",
    "surveys": "postgres-main",
    "reporting": "postgres-main",
    "notifier": "postgres-main",
}
POSTGRES_SERVERS = ("identity", "responses", "main")
AMQP_HOST = "rabbitmq:5672"
AMQP_VHOST = "bibmon"


def token() -> str:
    """A random 256-bit URL-safe value."""
    return secrets.token_urlsafe(32)


def rabbit_sha256(password: str) -> str:
    """RabbitMQ's rabbit_password_hashing_sha256: base64(salt + sha256(salt + password))."""
    salt = secrets.token_bytes(4)
    return base64.b64encode(salt + hashlib.sha256(salt + password.encode()).digest()).decode()


def plan(existing: dict[str, str]) -> dict[str, str]:
    """Every secret file name and its content; reuse values that already exist."""
    out: dict[str, str] = {}

    def keep(name: str, make: str) -> str:
        out[name] = existing.get(name, make)
        return out[name]

    for server in POSTGRES_SERVERS:
        keep(f"pg_{server}_superuser_password", token())
    service_token = keep("bibmon_service_token_secret", token())
    amqp_passwords: dict[str, str] = {}
    for svc in SERVICES:
        role = f"bibmon_{svc}"
        password = keep(f"pg_{role}_password", token())
        server = DATABASE_SERVER[svc]
        keep(
            f"bibmon_{svc}_database_url",
            f"postgresql://{role}:{password}@{server}:5432/{role}",
        )
        amqp_passwords[f"bibmon-{svc}"] = keep(f"rabbitmq_bibmon_{svc}_password", token())
        keep(
            f"bibmon_{svc}_amqp_url",
            f"amqp://bibmon-{svc}:{amqp_passwords[f'bibmon-{svc}']}@{AMQP_HOST}/{AMQP_VHOST}",
        )
        # Same value for every service: the kernel's internal service tokens.
        out[f"bibmon_{svc}_service_token_secret"] = service_token
    amqp_passwords["bibmon-admin"] = keep("rabbitmq_admin_password", token())
    amqp_passwords["kb-export"] = keep("rabbitmq_kb_export_password", token())
    # identity only (IdentitySettings): the first kb_admin's password, and the data key
    # (standard base64 of 32 bytes, AES-256-GCM for TOTP seeds and stored signing keys).
    keep("bibmon_identity_bootstrap_admin_password", token())
    keep("bibmon_identity_data_key", base64.b64encode(os.urandom(32)).decode())
    # identity and notifier only (ADR 0009): signs the one internal call that hands out
    # e-mail addresses, so a service holding just the service token secret cannot pose
    # as the notifier. One value, a file per reader under the name it reads.
    recipient_token = keep("bibmon_recipient_token_secret", token())
    out["bibmon_identity_recipient_token_secret"] = recipient_token
    out["bibmon_notifier_identity_token_secret"] = recipient_token

    if "rabbitmq_definitions.json" in existing:
        out["rabbitmq_definitions.json"] = existing["rabbitmq_definitions.json"]
    else:
        out["rabbitmq_definitions.json"] = render_definitions(amqp_passwords)
    return out


def render_definitions(passwords: dict[str, str]) -> str:
    """deploy/rabbitmq/definitions.json with a password hash for every user."""
    definitions = json.loads(DEFINITIONS_TEMPLATE.read_text(encoding="utf-8"))
    definitions.pop("_comment", None)
    for user in definitions["users"]:
        name = user["name"]
        if name not in passwords:
            raise SystemExit(f"generate.py: no password for RabbitMQ user {name!r}")
        user["password_hash"] = rabbit_sha256(passwords[name])
    return json.dumps(definitions, indent=2) + "\n"


def compose_secret_files(compose_file: Path) -> set[str]:
    """Base names of the files behind the top-level `secrets:` of a compose file."""
    import yaml  # only for --check-compose (PyYAML is in the uv dev environment)

    doc = yaml.safe_load(compose_file.read_text(encoding="utf-8"))
    names = set()
    for key, spec in (doc.get("secrets") or {}).items():
        if "file" not in spec:
            raise SystemExit(f"secret {key!r} has no file:")
        names.add(Path(spec["file"]).name)
        if Path(spec["file"]).parent.as_posix() not in (
            "deploy/secrets/local",
            "./deploy/secrets/local",
        ):
            raise SystemExit(f"secret {key!r} is not under ./deploy/secrets/local/")
    return names


def main(argv: list[str]) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE / "local")
    parser.add_argument("--force", action="store_true", help="regenerate every value")
    parser.add_argument(
        "--check-compose", type=Path, help="fail unless every secret file it mounts is generated"
    )
    args = parser.parse_args(argv)

    out_dir: Path = args.out
    out_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    existing = {}
    if not args.force:
        existing = {p.name: p.read_text(encoding="utf-8") for p in out_dir.iterdir() if p.is_file()}
    files = plan(existing)
    written = 0
    for name, content in files.items():
        path = out_dir / name
        if existing.get(name) == content and path.exists():
            continue
        # 0644 inside a 0700 directory: compose bind-mounts each file as it is, and the
        # containers read it as different users (postgres 999, services 10001).
        path.write_text(content, encoding="utf-8")
        path.chmod(0o644)
        written += 1
    print(f"generate.py: {written} written, {len(files) - written} kept in {out_dir}")

    if args.check_compose:
        wanted = compose_secret_files(args.check_compose)
        missing = sorted(wanted - set(files))
        if missing:
            print(f"compose mounts secrets the generator does not make: {missing}", file=sys.stderr)
            return 1
        json.loads(files["rabbitmq_definitions.json"])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
