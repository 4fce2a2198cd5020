"""Limits the Pulumi engine and the OS put on a stack before the program runs, with their sources.

The Python language host hands the whole stack config to the program in one environment variable,
``PULUMI_CONFIG`` (a JSON object of ``project:key`` to string; pulumi/pulumi
sdk/python/cmd/pulumi-language-python: ``cmd.Env = append(cmd.Env, pulumiConfigVar+"="+config, ...)``;
the SDK reads it in ``pulumi/runtime/config.py``). Linux refuses to exec a process when one
environment string, ``NAME=value`` and its NUL, is longer than ``MAX_ARG_STRLEN``, 32 pages of
4 KiB (include/uapi/linux/binfmts.h): the engine reports ``fork/exec ...: argument list too long``
and the program never starts, so it cannot name the key to blame. The offline tools check it first.
"""

from __future__ import annotations

import json
from typing import Any

MAX_ARG_STRLEN = 32 * 4096
"""Bytes in one environment string, with its NUL (Linux; CI runners and most deploy hosts)."""

CONFIG_ENV_VAR = "PULUMI_CONFIG"

MAX_STACK_FILE_BYTES = 1024 * 1024
"""The tools refuse a stack file larger than this before parsing it: a config that fits
``MAX_ARG_STRLEN`` is far smaller, so a bigger file is a mistake (a pasted log, a binary), not a fleet."""


def config_env_bytes(config: dict[str, Any]) -> int:
    """The length of ``PULUMI_CONFIG=<json>`` and its NUL as the language host builds it: Go's
    ``json.Marshal`` of string values (objects and lists JSON-encoded first), which escapes ``<``,
    ``>`` and ``&`` and keeps other UTF-8 as is."""
    encoded = {key: v if isinstance(v, str) else json.dumps(v, separators=(",", ":")) for key, v in config.items()}
    text = json.dumps(encoded, separators=(",", ":"), ensure_ascii=False, sort_keys=True)
    escaped = sum(text.count(c) for c in "<>&") * 5  # \u003c is six bytes where < was one
    return len(f"{CONFIG_ENV_VAR}=".encode()) + len(text.encode()) + escaped + 1
