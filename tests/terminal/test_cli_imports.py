"""A fast CLI: the entry module and a card command import no heavy library they do not
use (the numbers are in benchmarks/bench_cli_startup.py; this only checks imports)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from simulators.card import SoftwareCard

HEAVY = ("fastapi", "sqlalchemy", "pyhanko", "numpy", "aiohttp", "uvicorn", "prometheus_client")
ROOT = Path(__file__).resolve().parents[2]


def _imported_after(code: str) -> list[str]:
    probe = (
        code + f"\nimport sys, json\nprint(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_the_cli_entry_module_imports_no_heavy_library() -> None:
    assert _imported_after("import terminal.cli.main") == []


def test_help_and_a_card_read_import_no_heavy_library(
    tmp_path: Path, software_card: SoftwareCard
) -> None:
    card = tmp_path / "c.card"
    software_card.save(card)
    argv = repr(["--card", str(card), "cert", "read", "auth", "--json"])
    run = (
        "import contextlib, io\n"
        "from terminal.cli.main import app\n"
        f"for argv in (['--help'], {argv}):\n"
        "    out = io.StringIO()\n"
        "    with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):\n"
        "        app(argv)\n"
        "    assert 'Usage' in out.getvalue() or 'BEGIN CERTIFICATE' in out.getvalue()\n"
    )
    assert _imported_after(run) == []
