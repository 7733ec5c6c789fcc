"""Reading docker-compose.yml and the Dockerfile without a container engine."""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import click
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
ENV_EXAMPLE = ROOT / ".env.example"

_VARIABLE = re.compile(
    r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}"
    r"|\$(?P<bare>[A-Za-z_][A-Za-z0-9_]*)"
)


def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


def interpolate(value: str, env: Mapping[str, str]) -> str:
    """Compose's variable substitution: ``${VAR}``, ``${VAR:-default}``, ``${VAR-default}``, ``$$``."""
    def one(match: re.Match) -> str:
        name = match.group("name") or match.group("bare")
        op, arg = match.group("op"), match.group("arg") or ""
        current = env.get(name)
        if op == ":-":
            return current if current else arg
        if op == "-":
            return arg if current is None else current
        if op in (":?", "?"):
            if not current:
                raise AssertionError(f"variable {name} is required: {arg}")
            return current
        if op in (":+", "+"):
            return arg if current else ""
        return current or ""

    parts = value.split("$$")
    return "$".join(_VARIABLE.sub(one, part) for part in parts)


def variables(text: str) -> dict[str, str | None]:
    """Every variable the compose file interpolates, with its default (None when it has none)."""
    found: dict[str, str | None] = {}
    for match in _VARIABLE.finditer(text.replace("$$", "")):
        name = match.group("name") or match.group("bare")
        found.setdefault(name, match.group("arg") if match.group("op") in (":-", "-") else None)
    return found


def env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def resolve(node, env: Mapping[str, str]):  # noqa: ANN001, ANN201
    if isinstance(node, str):
        return interpolate(node, env)
    if isinstance(node, list):
        return [resolve(item, env) for item in node]
    if isinstance(node, dict):
        return {key: resolve(value, env) for key, value in node.items()}
    return node


def environment(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {key: "" if value is None else str(value) for key, value in env.items()}


def depends_on(service: dict) -> dict[str, dict]:
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):  # short form: no condition at all
        return {name: {} for name in deps}
    return deps


@dataclass(frozen=True)
class Instruction:
    keyword: str
    args: str
    stage: int


def dockerfile() -> list[Instruction]:
    """Instructions of the Dockerfile: continuation lines joined, comments dropped, stage numbered."""
    instructions: list[Instruction] = []
    pending = ""
    stage = -1
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        full = (pending + line).strip()
        pending = ""
        keyword, _, args = full.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            stage += 1
        instructions.append(Instruction(keyword, args.strip(), stage))
    assert not pending, "Dockerfile ends with a continuation line"
    return instructions


def exec_form(args: str) -> list[str] | None:
    """``["a", "b"]`` -> ['a', 'b']; shell form -> None."""
    args = args.strip()
    if args.startswith("["):
        value = yaml.safe_load(args)  # a JSON array is valid YAML
        assert isinstance(value, list) and all(isinstance(v, str) for v in value), args
        return value
    return None


def dockerfile_env(instructions: list[Instruction]) -> dict[str, str]:
    """ENV of the final stage (``KEY=VALUE ...`` form)."""
    last = max(i.stage for i in instructions)
    env: dict[str, str] = {}
    for ins in instructions:
        if ins.keyword == "ENV" and ins.stage == last:
            for token in shlex.split(ins.args):
                assert "=" in token, f"ENV {ins.args!r}: use the KEY=VALUE form"
                key, _, value = token.partition("=")
                env[key] = value
    return env


def resolve_cli(argv: list[str]) -> tuple[list[str], click.Command, list[str]]:
    """``["ncpeh", "trust-list", "build", "--x"]`` -> (["trust-list", "build"], command, ["--x"])."""
    from gateway.cli import main

    assert argv and argv[0] == "ncpeh", f"not an ncpeh command: {argv}"
    path: list[str] = []
    command: click.Command = main
    rest = argv[1:]
    while isinstance(command, click.Group) and rest and rest[0] in command.commands:
        path.append(rest[0])
        command = command.commands[rest[0]]
        rest = rest[1:]
    assert not isinstance(command, click.Group), f"{argv}: names a group, not a command"
    return path, command, rest
