"""Write deploy/rabbitmq/definitions.json from the broker permission table in the kernel.

The table is bibmon_common.messaging.permissions; a test fails when the file is stale.
"""

from __future__ import annotations

from pathlib import Path

from bibmon_common.messaging.permissions import render

OUT = Path(__file__).resolve().parents[1] / "deploy" / "rabbitmq" / "definitions.json"

if __name__ == "__main__":
    OUT.write_text(render(), encoding="utf-8")
    print(f"wrote {OUT}")
