"""What the command modules share: exit codes, the parser class, the train flags generated
from TrainConfig's fields, and printing unless --quiet."""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import types
import typing
from typing import Any, NoReturn

from . import config as config_module
from .config import TrainConfig, build_config, read_config_file

EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (and exit code 2), and a misspelt
    flag gets a suggestion."""

    def error(self, message: str) -> NoReturn:
        if message.startswith("unrecognized arguments:"):
            unknown = [a for a in message.split(":", 1)[1].split() if a.startswith("--")]
            close = difflib.get_close_matches(unknown[0], self.flags(), n=1) if unknown else []
            if close:
                message += f"; did you mean {close[0]}?"
        self.exit(EXIT_USER_ERROR, f"{self.prog}: error: {message} (see {self.prog} --help)\n")

    def flags(self) -> list[str]:
        """Every long flag of this parser and of its commands."""
        found = [flag for flag in self._option_string_actions if flag.startswith("--")]
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction):
                for sub in action.choices.values():
                    found += sub.flags() if isinstance(sub, Parser) else []
        return found


# -- train flags, generated from TrainConfig ---------------------------------------------------


def _plain_type(hint: Any) -> Any:
    if isinstance(hint, types.UnionType):
        return next(t for t in typing.get_args(hint) if t is not type(None))
    return hint


def _shown_default(value: Any) -> str:
    """A default as --help prints it, once: nothing for "none", on/off for switches."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return " (default: on)" if value else " (default: off)"
    return f" (default: {value})"


def add_config_flags(parser: argparse.ArgumentParser, only: set[str] | None = None) -> None:
    """One flag per TrainConfig field, same name, in the groups of config.FLAG_GROUPS;
    default None means 'not given'."""
    hints = typing.get_type_hints(TrainConfig)
    groups: dict[str, Any] = {}
    for f in dataclasses.fields(TrainConfig):
        if only is not None and f.name not in only:
            continue
        title = config_module.flag_group(f.name)
        if title not in groups:
            groups[title] = parser.add_argument_group(f"{title} options")
        group = groups[title]
        flag = "--" + f.name.replace("_", "-")
        kind = _plain_type(hints[f.name])
        help_text = f.metadata["help"] + _shown_default(f.default)
        if kind is bool:
            group.add_argument(
                flag, action=argparse.BooleanOptionalAction, default=None, help=help_text
            )
        else:
            group.add_argument(
                flag,
                type=kind,
                default=None,
                choices=f.metadata["choices"],
                metavar=None if f.metadata["choices"] else f.name.upper(),
                help=help_text,
            )


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """Defaults < preset < config file < flags."""
    values: dict[str, Any] = {}
    preset = args.preset
    if args.config:
        from_file = read_config_file(args.config)
        preset = preset or from_file.pop("preset", None)
        from_file.pop("preset", None)
        values.update(from_file)
    values.update(given_flags(args))
    return build_config(preset, **values)


def given_flags(args: argparse.Namespace) -> dict[str, Any]:
    names = config_module.field_names()
    return {k: v for k, v in vars(args).items() if k in names and v is not None}


def say(args: argparse.Namespace, message: str) -> None:
    if not args.quiet:
        print(message, flush=True)
