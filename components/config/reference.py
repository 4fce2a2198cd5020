"""The config reference, generated from the model: every key's path, type, default and docstring.

The model is the one place a default or a rule lives; ``docs/config-reference.md`` is rendered from
it (``python -m components.config.reference`` rewrites it) and a test fails when the file is stale
or a field has no docstring. Docstrings are read from the source (an attribute's docstring is the
string statement after it), so importing the model costs nothing extra at deploy time.
"""

from __future__ import annotations

import ast
import enum
import itertools
import pickle
import subprocess
import sys
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from .model import FleetSpec

DOC = Path(__file__).resolve().parents[2] / "docs" / "config-reference.md"
_SOURCES = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Row:
    """One config key as the reference lists it."""

    key: str
    """The key's camelCase name, as written in the stack file."""
    type: str
    """Its type in YAML terms."""
    default: str
    """What an absent key means: a value, "required", or "unset"."""
    doc: str
    """The field's docstring, on one line."""


@dataclass(frozen=True)
class Section:
    """One object of the config: its path (``fleet:clusters[].nodeGroups[]``) and its keys."""

    path: str
    """Where the object sits, in the notation error messages use."""
    model: type[BaseModel]
    """The pydantic model it is validated with."""
    rows: tuple[Row, ...]
    """Its keys in declaration order."""


def parse_python(source: str, filename: str = "<unknown>") -> ast.Module:
    """``ast.parse``, surviving CPython gh-106905: before 3.11.8, a parse after threaded work (the
    Pulumi mocks run threads) may fail with a spurious "AST constructor recursion depth mismatch";
    a fresh interpreter parses the same source."""
    try:
        return ast.parse(source, filename=filename)
    except SystemError:
        script = "import ast, pickle, sys; sys.stdout.buffer.write(pickle.dumps(ast.parse(sys.stdin.read())))"
        parsed = subprocess.run([sys.executable, "-c", script], input=source.encode(), capture_output=True, check=True)
        return cast(ast.Module, pickle.loads(parsed.stdout))


def field_docstrings() -> dict[tuple[str, str], str]:
    """(class name, field name) -> docstring, for every model class of the config package."""
    docs: dict[tuple[str, str], str] = {}
    for source in sorted(_SOURCES.glob("*.py")):
        tree = parse_python(source.read_text(), filename=str(source))
        for node in ast.walk(tree):
            if not isinstance(node, ast.ClassDef):
                continue
            body = node.body
            for statement, following in itertools.pairwise(body):
                if (
                    isinstance(statement, ast.AnnAssign)
                    and isinstance(statement.target, ast.Name)
                    and isinstance(following, ast.Expr)
                    and isinstance(following.value, ast.Constant)
                    and isinstance(following.value.value, str)
                ):
                    docs[(node.name, statement.target.id)] = " ".join(following.value.value.split())
    return docs


def _strip(annotation: Any) -> Any:
    """The annotation without Annotated metadata and without a None alternative."""
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(options) == 1:
            return _strip(options[0])
    return annotation


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _variants(annotation: Any) -> list[type[BaseModel]]:
    """The models of a (discriminated) union of models, else []."""
    annotation = _strip(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        options = [_strip(a) for a in typing.get_args(annotation)]
        if options and all(_is_model(o) for o in options):
            return options
    return []


def type_name(annotation: Any) -> str:
    """An annotation in the words of a YAML author."""
    annotation = _strip(annotation)
    origin = typing.get_origin(annotation)
    if annotation is bool:
        return "bool"
    if annotation is int:
        return "int"
    if annotation is float:
        return "number"
    if annotation is str:
        return "string"
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return " \\| ".join(f"`{member.value}`" for member in annotation)
    if origin is typing.Literal:
        return " \\| ".join(f"`{value}`" for value in typing.get_args(annotation))
    if origin is list or origin is tuple:
        return f"list of {type_name(typing.get_args(annotation)[0])}"
    if origin is dict:
        key, value = typing.get_args(annotation)
        return f"map of {type_name(key)} to {type_name(value)}"
    if _is_model(annotation):
        return "object"
    if variants := _variants(annotation):
        return "one of " + ", ".join(v.__name__ for v in variants)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(type_name(a) for a in typing.get_args(annotation) if a is not type(None))
    if isinstance(annotation, type):
        # Annotated string types (networks, ARNs, regions) validate text.
        return "string"
    return str(annotation)


def _yaml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, str) and not value:
        return '""'
    if isinstance(value, list | tuple) and not value:
        return "[]"
    if isinstance(value, dict) and not value:
        return "{}"
    return str(value)


def default_text(info: FieldInfo) -> str:
    """What the model does when the key is absent."""
    if info.is_required():
        return "required"
    if info.default_factory is not None:
        value = info.default_factory()  # type: ignore[call-arg]
        return "its defaults" if isinstance(value, BaseModel) else f"`{_yaml(value)}`"
    if info.default is None or info.default is PydanticUndefined:
        return "unset"
    return f"`{_yaml(info.default)}`"


def sections(model: type[BaseModel] = FleetSpec, path: str = "fleet") -> Iterator[Section]:
    """Every object of the config, depth first, each once per path."""
    docs = field_docstrings()
    yield from _walk(model, path, docs)


def _key(path: str, name: str) -> str:
    return f"{path}:{name}" if path == "fleet" else f"{path}.{name}"


def _walk(model: type[BaseModel], path: str, docs: dict[tuple[str, str], str]) -> Iterator[Section]:
    rows = []
    nested: list[tuple[type[BaseModel], str]] = []
    for name, info in model.model_fields.items():
        key = info.alias or name
        annotation = _strip(info.annotation)
        doc = _docstring(model, name, docs)
        rows.append(Row(key=key, type=type_name(annotation), default=default_text(info), doc=doc))
        child = _key(path, key)
        item = annotation
        if typing.get_origin(annotation) in (list, tuple):
            item, child = _strip(typing.get_args(annotation)[0]), f"{child}[]"
        elif typing.get_origin(annotation) is dict:
            item, child = _strip(typing.get_args(annotation)[1]), f"{child}.<key>"
        if _is_model(item):
            nested.append((item, child))
        for variant in _variants(item):
            nested.append((variant, f"{child} ({variant.__name__})"))
    yield Section(path=path, model=model, rows=tuple(rows))
    for child_model, child_path in nested:
        yield from _walk(child_model, child_path, docs)


def _docstring(model: type[BaseModel], name: str, docs: dict[tuple[str, str], str]) -> str:
    for cls in model.__mro__:
        if (doc := docs.get((cls.__name__, name))) is not None:
            return doc
    return ""


def undocumented() -> list[str]:
    """Config keys without a docstring: each one is a hole in the reference."""
    return [_key(s.path, row.key) for s in sections() for row in s.rows if not row.doc]


def render() -> str:
    """docs/config-reference.md."""
    lines = [
        "# Config reference",
        "",
        "<!-- Generated from components/config/ by `python -m components.config.reference`; do not edit. -->",
        "",
        "Every key of the `fleet:` namespace, from the model the program validates with: its type, what an",
        "absent key means, and its rule. Paths are written as validation errors name them. Prose about the",
        "sections is in [configuration.md](configuration.md).",
    ]
    for section in sections():
        title = section.path if section.path != "fleet" else "fleet (top level)"
        lines += ["", f"## `{title}`", ""]
        if summary := (section.model.__doc__ or "").strip().split("\n\n")[0]:
            lines += [" ".join(summary.split()), ""]
        lines += ["| key | type | default | meaning |", "|---|---|---|---|"]
        for row in section.rows:
            doc = row.doc.replace("|", "\\|")
            lines.append(f"| `{row.key}` | {row.type} | {row.default} | {doc} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Rewrite docs/config-reference.md; with --check, exit 1 when it is stale."""
    argv = sys.argv[1:] if argv is None else argv
    text = render()
    if "--check" in argv:
        if not DOC.exists() or DOC.read_text() != text:
            print(f"{DOC} is stale: run python -m components.config.reference", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(text)
    print(f"wrote {DOC}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
