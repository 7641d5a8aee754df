"""`python -m terminal.cli`: the same as the `mynaterm` script."""

from terminal.cli.toplevel_help import entry

entry()
