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


def test_the_prerendered_toplevel_help_is_what_the_cli_renders() -> None:
    from terminal.cli.toplevel_help import HELP_FILE, render

    assert HELP_FILE.read_text(encoding="utf-8") == render(), (
        "regenerate it: python -m terminal.cli.toplevel_help"
    )


def test_toplevel_help_imports_no_command_module() -> None:
    probe = (
        "import sys, io, contextlib\n"
        "sys.argv = ['mynaterm', '--help']\n"
        "from terminal.cli.toplevel_help import entry\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n"
        "    entry()\n"
        "assert 'Commands:' in out.getvalue()\n"
        "print([m for m in sys.modules if m.startswith('terminal.cli.') and m != 'terminal.cli.toplevel_help'])\n"  # noqa: E501
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_the_lazy_command_table_is_what_the_modules_register() -> None:
    # In a fresh process: a register() run twice in one process adds its commands twice.
    probe = (
        "import importlib, json, typer\n"
        "from terminal.cli.main import COMMAND_MODULES, COMMANDS\n"
        "everything = typer.Typer()\n"
        "owners = {}\n"
        "for name in COMMAND_MODULES:\n"
        "    area = typer.Typer()\n"
        "    importlib.import_module(name).register(area)\n"
        "    importlib.import_module(name).register(everything)\n"
        "    for info in area.registered_commands + area.registered_groups:\n"
        "        owners.setdefault(info.name, name)\n"
        "order = list(typer.main.get_group(everything).commands)\n"
        "print(json.dumps([order, list(COMMANDS), owners, {k: v[0] for k, v in COMMANDS.items()}]))\n"  # noqa: E501
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert done.returncode == 0, done.stderr
    order, table, owners, table_owners = json.loads(done.stdout.strip().splitlines()[-1])
    assert table == order, "terminal.cli.main.COMMANDS must list every command, in help order"
    assert table_owners == owners


def test_a_card_read_imports_only_its_command_module_and_no_pydantic(
    tmp_path: Path, software_card: SoftwareCard
) -> None:
    card = tmp_path / "c.card"
    software_card.save(card)
    probe = (
        "import sys, io, contextlib\n"
        f"sys.argv = ['mynaterm', '--card', {str(card)!r}, 'cert', 'read', 'auth', '--json']\n"
        "from terminal.cli.toplevel_help import entry\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):\n"
        "    entry()\n"
        'assert \'"kind": "auth"\' in out.getvalue(), out.getvalue()\n'
        "from terminal.cli.main import COMMAND_MODULES\n"
        "print(sorted(m for m in COMMAND_MODULES if m in sys.modules))\n"
        "print('pydantic' in sys.modules)\n"  # typer converts its values with it
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["['terminal.cli.card_cmds']", "False"]
