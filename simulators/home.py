"""Where simulators keep their state by default (PKI directory, card files, core keys)."""

from __future__ import annotations

import os
from pathlib import Path


def mynaterm_home() -> Path:
    """$MYNATERM_HOME, else ./var/mynaterm under the current directory."""
    return Path(os.environ.get("MYNATERM_HOME") or Path.cwd() / "var" / "mynaterm")
