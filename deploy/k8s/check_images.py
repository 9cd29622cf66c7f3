"""Refuse floating image tags in rendered manifests (kustomize output on stdin or a file).

    kubectl kustomize deploy/k8s/overlays/production | python deploy/k8s/check_images.py

Every container and init container must name an exact version: a digest, or a tag with
at least major.minor (`17.6`, `1.28.0`, `4.1-management`). `latest`, no tag, or a bare
major (`postgres:17`) are refused: a restarted pod would run whatever that means today.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from typing import Any

import yaml

PINNED_TAG = re.compile(r"^v?\d+\.\d+")


def images(doc: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(workload/container, image) of every container of a workload document."""
    spec = doc.get("spec") or {}
    pod = (spec.get("template") or {}).get("spec") or spec.get("jobTemplate", {}).get(
        "spec", {}
    ).get("template", {}).get("spec")
    if not pod:
        return
    name = f"{doc['kind']}/{doc['metadata']['name']}"
    for key in ("initContainers", "containers"):
        for container in pod.get(key) or []:
            yield f"{name}/{container['name']}", container["image"]


def problem(image: str) -> str | None:
    """Why `image` is not pinned, or None."""
    if "@sha256:" in image:
        return None
    last = image.rsplit("/", 1)[-1]
    if ":" not in last:
        return "no tag"
    tag = last.split(":", 1)[1]
    if not PINNED_TAG.match(tag):
        return f"floating tag {tag!r}"
    return None


def main() -> int:
    """Print every unpinned image; exit 1 when there is one."""
    stream = open(sys.argv[1], encoding="utf-8") if len(sys.argv) > 1 else sys.stdin  # noqa: SIM115
    bad = 0
    seen = 0
    for doc in yaml.safe_load_all(stream):
        if not doc:
            continue
        for where, image in images(doc):
            seen += 1
            if (why := problem(image)) is not None:
                print(f"{where}: {image}: {why}")
                bad += 1
    if not seen:
        print("no containers found")
        return 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
