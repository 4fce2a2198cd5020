"""The one place that reads Pulumi stack config: every ``fleet:*`` key, validated at once."""

from __future__ import annotations

import json
from typing import Any

from pulumi.runtime import config as runtime_config

from .errors import NAMESPACE


def _decode(value: Any) -> Any:
    # The CLI hands structured values over as JSON text and scalars as plain text; scalars stay
    # text so that pydantic's own coercion ("true" -> True, "3" -> 3) and messages apply.
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def raw_fleet_config() -> dict[str, Any]:
    """Every ``fleet:*`` key the stack sets, namespace stripped, values decoded."""
    keys = set(runtime_config.CONFIG.get()) | set(runtime_config.get_config_env())
    prefix = f"{NAMESPACE}:"
    return {key.removeprefix(prefix): _decode(runtime_config.get_config(key)) for key in sorted(keys) if key.startswith(prefix)}
