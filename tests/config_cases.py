"""Helpers for validation tests: the real prod config as raw ``fleet:*`` values, broken one way at a time."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from components.config.validation import ConfigError, parse_fleet
from offline.harness import stack_config


def raw_prod() -> dict[str, Any]:
    """Pulumi.yaml defaults overlaid by Pulumi.prod.yaml, namespace stripped, as parse_fleet takes it."""
    return {key.removeprefix("fleet:"): value for key, value in copy.deepcopy(stack_config("prod")).items()}


def problems_after(change: Callable[[dict[str, Any]], None]) -> list[str]:
    """The validation problems of the prod config after ``change``; fails if it is still valid."""
    raw = raw_prod()
    change(raw)
    with pytest.raises(ConfigError) as caught:
        parse_fleet(raw)
    return caught.value.problems
