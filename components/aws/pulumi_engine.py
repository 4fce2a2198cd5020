"""Limits the Pulumi engine and the OS put on a stack before the program runs, with their sources.

The Python language host hands the whole stack config to the program in one environment variable,
``PULUMI_CONFIG`` (a JSON object of ``project:key`` to string; pulumi/pulumi
sdk/python/cmd/pulumi-language-python: ``cmd.Env = append(cmd.Env, pulumiConfigVar+"="+config, ...)``;
the SDK reads it in ``pulumi/runtime/config.py``). Linux refuses to exec a process when one
environment string, ``NAME=value`` and its NUL, is longer than ``MAX_ARG_STRLEN``, 32 pages of
4 KiB (include/uapi/linux/binfmts.h): the engine reports ``fork/exec ...: argument list too long``
and the program never starts, so it cannot name the key to blame. The offline tools check it first.
(The policy pack's analyzer receives the config the same way, pulumi/pulumi#20402.)
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

MAX_ARG_STRLEN = 32 * 4096
"""Bytes in one environment string, with its NUL (Linux; CI runners and most deploy hosts)."""

CONFIG_ENV_VAR = "PULUMI_CONFIG"

MAX_STACK_FILE_BYTES = 1024 * 1024
"""The tools refuse a stack file larger than this before parsing it: a config that fits
``MAX_ARG_STRLEN`` is far smaller, so a bigger file is a mistake (a pasted log, a binary), not a fleet."""


def go_json(value: Any) -> str:
    """``value`` as Go's ``json.Marshal`` writes it: compact, map keys sorted, UTF-8 kept, and ``<``,
    ``>``, ``&``, U+2028 and U+2029 escaped as ``\\u003c``... (Go's encoding/json documentation,
    "String values encode as JSON strings coerced to valid UTF-8 ... HTML-safe")."""
    text = json.dumps(_as_go(value), separators=(",", ":"), ensure_ascii=False, sort_keys=True)
    for character, escaped in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(character, escaped)
    return text


def _as_go(value: Any) -> Any:
    """What Go writes differently: an integral float without a fraction (1.0 -> 1, 1e20 -> 1000...), and a
    YAML date or time as text (pulumi's config turns a time.Time into a string)."""
    if isinstance(value, dict):
        return {key: _as_go(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_as_go(item) for item in value]
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return int(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def config_env(config: dict[str, Any]) -> str:
    """``PULUMI_CONFIG=<json>`` as the language host builds it: each value a string (an object or list
    is the JSON Go marshals of it, pulumi/pulumi sdk/go/common/resource/config ``marshalText``), the
    map of them marshalled again."""
    return f"{CONFIG_ENV_VAR}=" + go_json(
        {str(key): v if isinstance(v, str) else go_json(v) for key, v in _as_go(config).items()}
    )


def config_env_bytes(config: dict[str, Any]) -> int:
    """The bytes ``config_env`` takes in the environment, with its NUL (a lone surrogate, which no UTF-8
    holds, counts as the three bytes of the U+FFFD Go writes instead)."""
    return len(config_env(config).encode("utf-8", errors="surrogatepass")) + 1


MIN_CLI_VERSION = (3, 200, 0)
"""The oldest Pulumi CLI the deploys run with (docs/deploy.md). Among what it brings: a change of an
explicit provider is diffed by the new provider's DiffConfig (pulumi/pulumi v3.151.0), which the
transition model and the interconnect's route moves rely on; an older engine replaces such resources."""


def cli_version(text: str) -> tuple[int, int, int] | None:
    """``v3.272.0``, ``3.272.0-alpha.x`` or ``3.272.1-dev.0+g123`` as (3, 272, 0); None when it is not a version."""
    parts = text.strip().lstrip("v").split("+")[0].split("-")[0].split(".")
    try:
        major, minor, patch = (int(p) for p in [*parts, "0", "0"][:3])
    except ValueError:
        return None
    return major, minor, patch
