"""CPU time of the machine's processes, read from /proc: the benches' servers run here too."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def processes() -> Iterator[tuple[str, int, float]]:
    """(command name, process group, CPU seconds of user + system time) of each process.

    /proc/<pid>/stat: the name in parentheses, then field 5 the process group and 14 and
    15 the user and system ticks. A process that ends takes its share with it.
    """
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        yield name, int(fields[2]), (int(fields[11]) + int(fields[12])) / TICKS
