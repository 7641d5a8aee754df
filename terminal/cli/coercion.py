"""Parameter conversion without pydantic for the plain cases.

typer converts every parameter value through a pydantic TypeAdapter, and importing
pydantic costs more than a software-card certificate read (benchmarks/
bench_cli_startup.py). For a plain `str`, a `bool` flag, an Enum choice or a `Path`, typer's own
helpers do the work (`coerce_cli_choice`, `coerce_cli_path`); the adapter only wraps
them. So these parameters get a converter that calls those helpers directly, and hands
anything else (another type, a value that does not convert, a custom parser) to typer's
own converter, built on first use: the results and the error messages stay typer's.
tests/terminal/test_cli_coercion.py compares both on the same inputs.

It uses typer internals (`_TyperParameter._runtime_param`, `typer._coercion`); when
they are not there, parameters keep typer's converter: slower, never different."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

try:
    from typer._click import Context
    from typer._coercion import RuntimeParam, TypeDescriptor, build_runtime_param
    from typer._param_types import coerce_cli_choice, coerce_cli_path
    from typer.core import _TyperParameter
except ImportError:  # another typer: keep its own conversion
    RuntimeParam = None  # type: ignore[assignment,misc]


def _plain_kind(descriptor: Any) -> str | None:
    """'str', 'bool', 'enum' or 'path' when the annotation is one of the plain cases."""
    info = descriptor.parameter_info
    if descriptor.file_annotation is not None or info.parser is not None:
        return None
    annotation = descriptor.annotation
    if annotation is str:
        return "str"
    if annotation is bool:
        return "bool"
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return "enum"
    if annotation is Path and info.path_type is None:
        return "path"
    return None


if RuntimeParam is not None:

    @dataclass(frozen=True)
    class PlainRuntimeParam(RuntimeParam):
        """Converts a single str value (a bool, for a flag) of a plain parameter;
        typer's converter does everything else."""

        descriptor: TypeDescriptor
        kind: str

        def _typer_param(self) -> RuntimeParam:
            return build_runtime_param(self.descriptor)

        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            try:
                return self._plain(value, param, ctx)
            except ValueError:
                # typer's converter: its own message for a value that does not convert,
                # its own answer for a value of another type
                return build_runtime_param(self.descriptor)._coerce_value(
                    value, param=param, ctx=ctx
                )

        def _plain(self, value: Any, param: Any, ctx: Any) -> Any:
            info = self.parameter_info
            if self.kind == "bool" and type(value) is bool:
                return value  # what the bool adapter returns for a bool
            if self.kind == "enum" and isinstance(value, self.annotation):
                return value  # a default: coerce_cli_choice keeps a member as it is
            if self.kind == "path" and isinstance(value, Path):
                return coerce_cli_path(value, info, path_type=Path, param=param, ctx=ctx)
            if type(value) is not str or self.kind == "bool":
                raise ValueError("not a plain value")
            if self.kind == "str":
                return value
            if self.kind == "enum":
                return coerce_cli_choice(
                    value,
                    choices=list(self.annotation),
                    case_sensitive=info.case_sensitive,
                    ctx=ctx,
                )
            # What the pydantic Path adapter makes of a str, then typer's path checks.
            return coerce_cli_path(Path(value), info, path_type=Path, param=param, ctx=ctx)


def use_plain_conversion(command: Any, *, subcommands: bool = True) -> None:
    """Give the plain parameters of `command` (and of its subcommands, for a group,
    unless told not to) the converter above."""
    if RuntimeParam is None:
        return
    params = list(getattr(command, "params", ()))
    if getattr(command, "add_help_option", False) and command._help_option is None:
        # The --help flag is made on first use and cached; make it now (the CLI sets no
        # context_settings, so the default option names are the ones a run would use)
        # so that it gets the converter too.
        params.append(command.get_help_option(Context(command)))
    for param in params:
        if not isinstance(param, _TyperParameter) or param._runtime_param is not None:
            continue
        descriptor = param.type_descriptor
        kind = _plain_kind(descriptor)
        if kind is not None:
            param._runtime_param = PlainRuntimeParam(
                parameter_info=descriptor.parameter_info,
                annotation=descriptor.annotation,
                descriptor=descriptor,
                kind=kind,
            )
    for sub in getattr(command, "commands", {}).values() if subcommands else ():
        use_plain_conversion(sub)
