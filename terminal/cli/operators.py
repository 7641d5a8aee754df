"""`mynaterm operator add NAME --role ...`: make an operator account for `mynaterm serve`.

The password is asked twice without echo (or read from stdin with --password-stdin for
scripts) and only its scrypt hash leaves this command: as the MYNATERM_OPERATORS line to
put in the service's environment, or written into a settings file (TOML or JSON, mode
0600), replacing an account of the same name."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from terminal.cli.output import JsonOption, console, emit, fail

operator_app = typer.Typer(help="Operator accounts of the service.", no_args_is_help=True)

ROLES = ("clerk", "officer", "kiosk", "admin")
MIN_PASSWORD_LENGTH = 12


def _read_password(password_stdin: bool, as_json: bool) -> str:
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        import getpass

        if not sys.stdin.isatty():
            fail(
                "no terminal to ask the password: use --password-stdin",
                code="USAGE",
                as_json=as_json,
            )
        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            fail("the two passwords differ", code="USAGE", as_json=as_json)
    from terminal.service.settings import WELL_KNOWN_PASSWORDS

    if len(password) < MIN_PASSWORD_LENGTH:
        fail(
            f"the password needs at least {MIN_PASSWORD_LENGTH} characters",
            code="USAGE",
            as_json=as_json,
        )
    if password.lower() in WELL_KNOWN_PASSWORDS:
        fail("that password is well known; choose another", code="USAGE", as_json=as_json)
    return password


def _merge(accounts: list[dict[str, Any]], account: dict[str, Any]) -> list[dict[str, Any]]:
    """`accounts` with `account` added, or replacing the one of the same username."""
    kept = [a for a in accounts if a.get("username") != account["username"]]
    return [*kept, account]


def _load(path: Path, as_json: bool) -> dict[str, Any]:
    if not path.exists():
        return {}
    import tomllib

    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    except (OSError, ValueError) as exc:
        fail(f"cannot read settings file {path}: {exc}", code="SETTINGS", as_json=as_json)
    if not isinstance(data, dict):
        fail(f"settings file {path} is not a table of settings", code="SETTINGS", as_json=as_json)
    return data


def _write(path: Path, data: dict[str, Any]) -> None:
    """Atomically, owner-only: the file holds password hashes (and perhaps secrets)."""
    if path.suffix == ".json":
        text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    else:
        import tomli_w

        text = tomli_w.dumps(data)
    temporary = path.with_name(path.name + ".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    temporary.replace(path)


@operator_app.command("add")
def operator_add(
    username: Annotated[str, typer.Argument(help="Login name (A-Z a-z 0-9 _ . @ -).")],
    roles: Annotated[
        list[str],
        typer.Option("--role", help="clerk | officer | kiosk | admin; repeat for more."),
    ],
    settings_file: Annotated[
        Path | None,
        typer.Option(
            "--settings-file",
            help="Add (or replace) the account in this TOML or JSON settings file "
            "(created 0600); without it the MYNATERM_OPERATORS line is printed.",
        ),
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin (scripts).")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Make an operator account: asks the password twice (no echo), keeps only its hash."""
    from pydantic import ValidationError

    from terminal.service.passwords import hash_password
    from terminal.service.settings import OperatorAccount

    unknown = [role for role in roles if role not in ROLES]
    if unknown:
        fail(
            f"unknown role {unknown[0]!r}; one of {', '.join(ROLES)}", code="USAGE", as_json=as_json
        )
    try:
        # Username and roles checked before the password is asked (placeholder hash).
        OperatorAccount(username=username, password_hash="-", roles=roles)  # type: ignore[arg-type]  # noqa: S106
    except ValidationError as exc:
        problems = "; ".join(str(error.get("msg", "")) for error in exc.errors())
        fail(f"not a valid account: {problems}", code="USAGE", as_json=as_json)
    password = _read_password(password_stdin, as_json)
    account = {"username": username, "password_hash": hash_password(password), "roles": roles}
    del password
    if settings_file is not None:
        data = _load(settings_file, as_json)
        data["operators"] = _merge(list(data.get("operators", [])), account)
        try:
            _write(settings_file, data)
        except OSError as exc:
            fail(f"cannot write {settings_file}: {exc.strerror}", code="IO", as_json=as_json)
        emit(
            {"username": username, "roles": roles, "settings_file": str(settings_file)},
            as_json,
            lambda: console.print(f"operator {username} written to {settings_file}"),
        )
        return
    existing = os.environ.get("MYNATERM_OPERATORS")
    try:
        accounts = json.loads(existing) if existing else []
    except ValueError:
        fail("MYNATERM_OPERATORS is set but is not JSON", code="SETTINGS", as_json=as_json)
    value = json.dumps(_merge(accounts, account), separators=(",", ":"))
    line = f"MYNATERM_OPERATORS='{value}'"

    def human() -> None:
        sys.stdout.write(line + "\n")

    emit({"username": username, "roles": roles, "settings_line": line}, as_json, human)


def register(app: typer.Typer) -> None:
    app.add_typer(operator_app, name="operator")
