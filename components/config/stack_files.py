"""Reading Pulumi.<stack>.yaml the way a person needs it read: exact places for mistakes, no silent duplicates.

PyYAML's safe loader keeps the last of two equal keys without a word; the Pulumi CLI refuses
them. A dedented block that repeats a key (a node group's ``labels:`` one level too far left
becomes the cluster's second ``labels``) would silently replace the first, so this loader
refuses duplicates and names both lines. ``secure:`` values are encrypted with the stack's
secrets provider, which the offline tools cannot decrypt: they stand in as placeholders that
pass validation, and the tools say which paths they replaced.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode

from ..aws import pulumi_engine

# Placeholders for encrypted values: long enough for a PSK, one word for a token.
SECRET_PLACEHOLDER = "offline-placeholder-for-an-encrypted-value-0123456789abcdefghij"
SSH_KEY_PLACEHOLDER = "-----BEGIN OPENSSH PRIVATE KEY-----\noffline-placeholder\n-----END OPENSSH PRIVATE KEY-----\n"


class StackFileError(Exception):
    """A stack file the tools cannot use; the message is file:line:column: what is wrong."""


class _StrictLoader(yaml.SafeLoader):
    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, Any] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                first = seen[key]
                raise ConstructorError(
                    None,
                    None,
                    f"duplicate key {key!r} (first at line {first.line + 1}, column {first.column + 1}); "
                    "YAML keeps only the last, so the first would be lost: check the indentation",
                    key_node.start_mark,
                )
            seen[key] = key_node.start_mark
        return super().construct_mapping(node, deep=deep)


# PyYAML's context for a construct it was still inside when it failed -> what was left open.
_UNCLOSED = {
    "while parsing a flow sequence": "the [",
    "while parsing a flow mapping": "the {",
    "while scanning a quoted scalar": "the quote",
}


def load_yaml(path: Path) -> Any:
    """The document in ``path``; StackFileError with file, line and column for anything YAML or duplicates refuse."""
    try:
        size = path.stat().st_size
        if size > pulumi_engine.MAX_STACK_FILE_BYTES:
            raise StackFileError(
                f"{path}: {size:,} bytes; the tools refuse stack files over {pulumi_engine.MAX_STACK_FILE_BYTES:,} bytes "
                f"(the config Pulumi can pass to the program is under {pulumi_engine.MAX_ARG_STRLEN:,}: "
                "components/aws/pulumi_engine.py); is this the file you meant?"
            )
        text = _utf8(path, path.read_bytes())
    except OSError as exc:
        raise StackFileError(f"{path}: {exc.strerror}") from None
    try:
        return yaml.load(text, Loader=_StrictLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        opened = _UNCLOSED.get(exc.context or "")
        if opened is not None and exc.context_mark is not None:
            # The parser notices an unclosed bracket or quote only later; point at where it opened.
            found = f"{exc.problem_mark.line + 1}:{exc.problem_mark.column + 1}" if exc.problem_mark else "the end"
            mark, problem = exc.context_mark, f"{opened} opened here is never closed ({problem} at {found})"
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        if "\t" in text and "found character '\\t'" in str(exc):
            problem += " (YAML indents with spaces, never tabs)"
        raise StackFileError(f"{where}: {problem}") from None
    except yaml.YAMLError as exc:
        raise StackFileError(f"{path}: {exc}") from None


def _utf8(path: Path, data: bytes) -> str:
    """``data`` as text; a byte that is not UTF-8 is named by line and column (the YAML spec and the
    Pulumi CLI read stack files as UTF-8)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        start = data.rfind(b"\n", 0, exc.start) + 1
        column = len(data[start : exc.start].decode("utf-8", errors="replace")) + 1
        raise StackFileError(
            f"{path}:{line}:{column}: byte 0x{data[exc.start]:02x} is not UTF-8 ({exc.reason}); the file was saved in "
            "another encoding: save it as UTF-8 (e.g. iconv -f latin1 -t utf-8), or retype the character"
        ) from None


@dataclass
class StackFile:
    config: dict[str, Any]
    secrets: list[str] = field(default_factory=list)
    """Config paths whose encrypted values were replaced by placeholders."""


def read_stack_file(path: Path, project_file: Path | None = None) -> StackFile:
    """The ``config:`` of a stack file, with encrypted values replaced by placeholders (and listed).
    ``project_file``: the Pulumi.yaml whose defaults Pulumi passes too (default: the one beside it)."""
    document = load_yaml(path)
    if document is None:
        raise StackFileError(f"{path}:1:1: the file is empty; a stack file needs a `config:` section (see Pulumi.prod.yaml)")
    if not isinstance(document, dict):
        raise StackFileError(f"{path}:1:1: expected a mapping with a `config:` section, found {type(document).__name__}")
    if "config" not in document:
        keys = ", ".join(map(str, document)) or "nothing"
        raise StackFileError(f"{path}:1:1: no `config:` section (found {keys}); put the fleet:* keys under `config:`")
    config = document["config"] or {}
    if not isinstance(config, dict):
        raise StackFileError(f"{path}: `config:` must be a mapping of fleet:* keys")
    if odd := _non_string_keys(config, ""):
        raise StackFileError(
            f"{path}: {'; '.join(odd)}: YAML reads unquoted on, off, yes, no, true and false as booleans and digits as "
            "numbers, but config keys are names: quote them"
        )
    defaults = project_defaults(project_file or path.parent / "Pulumi.yaml")
    passed = pulumi_engine.config_env_bytes({**defaults, **config})
    if passed > pulumi_engine.MAX_ARG_STRLEN:
        largest = max(config, key=lambda key: pulumi_engine.config_env_bytes({key: config[key]}))
        raise StackFileError(
            f"{path}: its config is {passed:,} bytes as Pulumi passes it to the program ({pulumi_engine.CONFIG_ENV_VAR}), "
            f"over Linux's {pulumi_engine.MAX_ARG_STRLEN:,} for one environment string: `pulumi up` would stop with "
            f"'argument list too long' before the program runs (components/aws/pulumi_engine.py). The largest key is "
            f"{largest}; split the fleet into stacks"
        )
    secrets: list[str] = []
    replaced = {key: _placeholders(value, key, secrets) for key, value in config.items()}
    fix_credentials(replaced)
    return StackFile(replaced, secrets)


def _non_string_keys(value: Any, where: str) -> list[str]:
    """Every mapping key that YAML read as something other than a string, by its config path."""
    if isinstance(value, dict):
        found = [f"{where or 'config'}: key {key!r} is a {type(key).__name__}" for key in value if not isinstance(key, str)]
        for key, item in value.items():
            found += _non_string_keys(item, f"{where}.{key}" if where else str(key))
        return found
    if isinstance(value, list):
        return [problem for i, item in enumerate(value) for problem in _non_string_keys(item, f"{where}[{i}]")]
    return []


def project_defaults(project_file: Path) -> dict[str, Any]:
    """The config defaults a Pulumi.yaml declares (``<project>:<key>`` -> default): the CLI passes them
    to the program with the stack's own values. Nothing when there is no such file."""
    if not project_file.is_file():
        return {}
    project = load_yaml(project_file) or {}
    name = project.get("name")
    return {
        f"{name}:{key}": spec["default"]
        for key, spec in (project.get("config") or {}).items()
        if isinstance(spec, dict) and "default" in spec
    }


def _placeholders(value: Any, path: str, secrets: list[str]) -> Any:
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            secrets.append(path)
            return SECRET_PLACEHOLDER
        return {k: _placeholders(v, f"{path}.{k}", secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_placeholders(v, f"{path}[{i}]", secrets) for i, v in enumerate(value)]
    return value


def fix_credentials(config: dict[str, Any]) -> None:
    """An ssh repository's credentials are a private key: its placeholder must look like one."""
    argocd = config.get("fleet:argocd")
    repo = argocd.get("repo") if isinstance(argocd, dict) else None
    if (
        isinstance(repo, dict)
        and repo.get("credentials") == SECRET_PLACEHOLDER
        and not str(repo.get("url", "")).startswith("https://")
    ):
        repo["credentials"] = SSH_KEY_PLACEHOLDER


def declares_cells(path: Path) -> bool:
    """Whether the stack file at ``path`` exists and sets ``fleet:cells: true`` (planning/cells.py): the one
    check of the key on a file, for the tools that read stack files without the model (PyYAML only)."""
    return path.is_file() and read_stack_file(path).config.get("fleet:cells") is True


def is_cell_file(path: Path) -> bool:
    """``Pulumi.<env>.<cluster>.yaml``: a cell's own stack file (its secrets provider only; a cell runs with
    its environment's file, planning/cells.py), not a stack of its own."""
    stack = path.name.removeprefix("Pulumi.").removesuffix(".yaml")
    if "." not in stack:
        return False
    try:
        return declares_cells(path.parent / f"Pulumi.{stack.split('.', 1)[0]}.yaml")
    except StackFileError:
        return False
