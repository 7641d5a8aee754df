"""The terminal's state directory: configuration, not a simulator function.

$MYNATERM_HOME, else ./var/mynaterm under the current directory. The CLI keeps its
default SQLite store, challenge file, CRL store and dev keys below it. (The simulators
read the same variable for their own state; they never import the terminal.)"""

from __future__ import annotations

import os
from pathlib import Path

HOME_ENV = "MYNATERM_HOME"


def mynaterm_home() -> Path:
    """$MYNATERM_HOME, else ./var/mynaterm under the current directory."""
    return Path(os.environ.get(HOME_ENV) or Path.cwd() / "var" / "mynaterm")
