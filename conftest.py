"""Settings for the whole test suite.

Property tests (hypothesis) explore new examples on every developer run, but CI runs a
fixed, derandomised set, so a red CI always reproduces and never depends on luck.
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
