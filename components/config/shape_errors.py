"""Shapes, values and one-field rules: pydantic's errors on the config model, said with config paths.

The model (``model.py`` and its sections) holds every shape and one-field rule; this module turns
pydantic's errors into one line each, naming the key a typo most likely meant (``vpcCIDR`` ->
``vpcCidr``) and a routing field given to the wrong policy.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from .errors import config_path
from .model import ROUTING_FIELDS, FleetSpec


def _known_keys(model: type[BaseModel], *, nested: bool = True) -> set[str]:
    keys: set[str] = set()
    for field in model.model_fields.values():
        keys.add(field.alias or "")
        if nested:
            for arg in _nested_models(field.annotation):
                keys |= _known_keys(arg)
    return keys


def _nested_models(annotation: Any) -> Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
    for arg in getattr(annotation, "__args__", ()):
        yield from _nested_models(arg)
    for arg in getattr(annotation, "__metadata__", ()):
        yield from _nested_models(arg)
    origin = getattr(annotation, "__origin__", None)
    if origin is not None and origin is not annotation:
        yield from _nested_models(origin)


_KNOWN_KEYS = sorted(_known_keys(FleetSpec))


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model whose keys are valid at ``loc`` (a pydantic error location without its last part)."""
    model: type[BaseModel] | None = FleetSpec
    for part in loc:
        if model is None:
            return None
        if isinstance(part, int) or "[" in str(part):
            continue  # a list index, or a pydantic validator name: the same model's items
        field = next((f for name, f in model.model_fields.items() if part in (f.alias, name)), None)
        if field is None:
            # A mapping key (dict[str, Model]): its values are the field's model.
            continue
        model = next(_nested_models(field.annotation), None)
    return model


def suggestion(key: str, loc: tuple[Any, ...]) -> str | None:
    """The valid key at ``loc`` that ``key`` most likely meant: one it is part of (version ->
    kubernetesVersion), else the closest spelling; case-insensitive, so that vpcCIDR finds vpcCidr."""
    model = _model_at(loc)
    keys = sorted(_known_keys(model, nested=False) if model is not None else _KNOWN_KEYS)
    by_lower = {known.lower(): known for known in keys if known}
    wanted = key.lower()
    containing = sorted((k for k in by_lower if len(wanted) >= 3 and (wanted in k or k in wanted)), key=len)
    if containing:
        return by_lower[containing[0]]
    close = difflib.get_close_matches(wanted, list(by_lower), n=1, cutoff=0.6)
    return by_lower[close[0]] if close else None


def _describe(error: Mapping[str, Any]) -> str:
    kind, message = str(error["type"]), str(error["msg"])
    if kind == "extra_forbidden":
        meant = suggestion(str(error["loc"][-1]), tuple(error["loc"][:-1]))
        hint = f"; did you mean {meant!r}?" if meant else ""
        return f"unknown key{hint}"
    if kind == "missing":
        return "is required"
    if message.startswith("Value error, "):
        return message.removeprefix("Value error, ")
    value = error.get("input")
    if isinstance(value, str | int | float | bool):
        return f"{message} (got {value!r})"
    return message


_RECORDS = ("dns", "records")


def error_loc(error: Mapping[str, Any]) -> tuple[tuple[int | str, ...], str | None]:
    """The config path of a pydantic error, and the routing policy it was raised under (if any).

    pydantic adds validator names (e.g. 'function-after[...]') to some locations, and the tag of a
    discriminated union (dns.records[0].weighted.weights); neither is a key of the config.
    """
    loc = tuple(p for p in error["loc"] if isinstance(p, int) or "[" not in p)
    if len(loc) > 3 and loc[:2] == _RECORDS and loc[3] in ROUTING_FIELDS:
        return loc[:3] + loc[4:], str(loc[3])
    return loc, None


def _record_problem(error: Mapping[str, Any], loc: tuple[int | str, ...], routing: str) -> str | None:
    """A routing field given to the wrong policy, or one its policy needs, said as such."""
    if len(loc) != 4:
        return None
    field, record = str(loc[3]), config_path(loc[:3])
    if error["type"] == "extra_forbidden" and any(field in fields for fields in ROUTING_FIELDS.values()):
        return f"{record}: {field} is not used by {routing} routing"
    if error["type"] == "missing" and field in ROUTING_FIELDS[routing]:
        return f"{record}: {routing} routing needs {field}"
    return None


def pydantic_problems(exc: ValidationError) -> list[str]:
    problems = []
    for error in exc.errors():
        loc, routing = error_loc(error)
        if routing is not None and (problem := _record_problem(error, loc, routing)):
            problems.append(problem)
        elif error["type"] in ("union_tag_invalid", "union_tag_not_found") and loc[:2] == _RECORDS:
            expected = " or ".join(", ".join(repr(r) for r in ROUTING_FIELDS).rsplit(", ", 1))
            given = f" (got {error['input'].get('routing')!r})" if error["type"] == "union_tag_invalid" else ""
            problems.append(f"{config_path((*loc, 'routing'))}: Input should be {expected}{given}")
        else:
            problems.append(f"{config_path(loc)}: {_describe(error)}")
    return problems
