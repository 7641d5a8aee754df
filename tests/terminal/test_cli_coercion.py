"""terminal.cli.coercion converts plain parameters without pydantic: the same inputs
give the same values, messages and exit codes as typer's own converter."""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Annotated, Any

import pytest
import typer
import typer.testing

from terminal.cli.coercion import PlainRuntimeParam, use_plain_conversion


class Colour(enum.Enum):
    RED = "red"
    DARK_BLUE = "dark-blue"


def _app() -> typer.Typer:
    app = typer.Typer(rich_markup_mode=None)

    @app.command()
    def show(
        colour: Annotated[Colour, typer.Argument()],
        name: Annotated[str, typer.Option("--name")] = "anon",
        where: Annotated[Path | None, typer.Option("--where")] = None,
        existing: Annotated[
            Path | None, typer.Option("--existing", exists=True, dir_okay=False)
        ] = None,
        loud: Annotated[bool, typer.Option("--loud")] = False,
        count: Annotated[int, typer.Option("--count")] = 1,
        shade: Annotated[Colour, typer.Option("--shade", case_sensitive=False)] = Colour.RED,
    ) -> None:
        values: list[Any] = [colour, name, where, existing, loud, count, shade]
        print(repr([(type(v).__name__, v) for v in values]))

    @app.command()
    def other() -> None:
        print("other")

    return app


CASES = [
    ["show", "red"],
    ["show", "dark-blue", "--name", "", "--where", "a/b", "--loud", "--count", "3"],
    ["show", "RED"],
    ["show", "green"],
    ["show", "red", "--shade", "DARK-BLUE"],
    ["show", "red", "--shade", "x"],
    ["show", "red", "--where", ""],
    ["show", "red", "--existing", "/no/such/file"],
    ["show", "red", "--existing", "/"],
    ["show", "red", "--existing", __file__],
    ["show", "red", "--count", "x"],
    ["show", "red", "--where", "/tmp"],
    ["show", "--help"],
    ["show"],
    ["other"],
]


@pytest.mark.parametrize("argv", CASES, ids=" ".join)
def test_plain_conversion_answers_as_typer_does(
    argv: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = typer.testing.CliRunner()
    typers = runner.invoke(_app(), argv, prog_name="t")
    plain = typer.main.get_command(_app())
    use_plain_conversion(plain)
    monkeypatch.setattr(typer.testing, "_get_command", lambda _app: plain)
    ours = runner.invoke(_app(), argv, prog_name="t")
    assert (ours.exit_code, ours.output) == (typers.exit_code, typers.output)


def test_plain_parameters_get_the_plain_converter() -> None:
    command = typer.main.get_command(_app())
    use_plain_conversion(command)
    show = command.commands["show"]  # type: ignore[attr-defined]
    kinds = {
        p.name: p._runtime_param.kind
        for p in show.params
        if isinstance(p._runtime_param, PlainRuntimeParam)
    }
    # count (an int) keeps typer's converter
    assert kinds == {
        "colour": "enum",
        "name": "str",
        "where": "path",
        "existing": "path",
        "loud": "bool",
        "shade": "enum",
    }
