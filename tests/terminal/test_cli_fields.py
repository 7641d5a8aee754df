"""The text form of a command's result: one line per leaf value, dotted keys for nested
objects, no Python reprs, and values never read as rich markup."""

from __future__ import annotations

from typer.testing import CliRunner

from terminal.cli import options
from terminal.cli.options import _leaves


def test_nested_results_become_dotted_leaves() -> None:
    payload = {
        "serial": 12,
        "identity": {"fields": {"name": "match", "my_number": "not_given"}},
        "certificates": [{"kind": "auth"}, {"kind": "sign"}],
        "reasons": ["loss", "death"],
        "note": None,
    }
    assert list(_leaves(payload)) == [
        ("serial", "12"),
        ("identity.fields.name", "match"),
        ("identity.fields.my_number", "not_given"),
        ("certificates[0].kind", "auth"),
        ("certificates[1].kind", "sign"),
        ("reasons", "loss, death"),
        ("note", ""),
    ]


def test_values_are_printed_as_text_not_markup() -> None:
    import typer

    app = typer.Typer()

    @app.command()
    def show() -> None:
        options.print_fields({"name": "[bold]山田[/bold] [red]x"})

    result = CliRunner().invoke(app, [])
    assert result.exit_code == 0, result.output
    assert "[bold]山田[/bold] [red]x" in result.output
