"""Helpers for config tests: the real prod config as raw ``fleet:*`` values, broken one way at a time, and runbook edits."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from components.config.errors import ConfigError
from components.planning.checks import load_fleet
from offline.harness import stack_config


def raw_prod() -> dict[str, Any]:
    """Pulumi.yaml defaults overlaid by tests/stacks/Pulumi.fleet.yaml, namespace stripped, as load_fleet takes it."""
    return {key.removeprefix("fleet:"): value for key, value in copy.deepcopy(stack_config("fleet")).items()}


def raw_mgmt() -> dict[str, Any]:
    """Pulumi.yaml defaults overlaid by the shipped Pulumi.mgmt.yaml (the Argo CD hub), as load_fleet takes it."""
    return {key.removeprefix("fleet:"): value for key, value in copy.deepcopy(stack_config("mgmt")).items()}


STAGING = "organization/fleet/staging"
PROD = "organization/fleet/prod"


def members_registered(config: dict[str, Any]) -> None:
    """mgmt after prod's and staging's first deploys: its hub registers both (fleet:members)."""
    key = "fleet:members" if any(k.startswith("fleet:") for k in config) else "members"
    config[key] = [PROD, STAGING]


def staging_registered(config: dict[str, Any]) -> None:
    """Prod after staging's first deploy: its hub registers staging (fleet:members), the runbook's step 2."""
    key = "fleet:members" if any(k.startswith("fleet:") for k in config) else "members"
    config[key] = [STAGING]


def problems_after(change: Callable[[dict[str, Any]], None]) -> list[str]:
    """The validation problems of the prod config after ``change``; fails if it is still valid."""
    raw = raw_prod()
    change(raw)
    with pytest.raises(ConfigError) as caught:
        load_fleet(raw)
    return caught.value.problems


def retire_steps() -> list[Callable[[dict[str, Any]], None]]:
    """The "Tear a cluster down" runbook (docs/runbooks.md) for prod-eu, as config edits (each builds on the last)."""

    def step1(config: dict[str, Any]) -> None:
        next(c for c in config["fleet:clusters"] if c["name"] == "prod-eu")["retiring"] = True

    def step2(config: dict[str, Any]) -> None:
        step1(config)
        api, _failover, www, shop = config["fleet:dns"]["records"]
        api["weights"] = {"prod-us": 100}
        www["clusters"] = ["prod-us"]
        shop["locations"] = {"default": "prod-us"}
        config["fleet:dns"]["records"] = [api, www, shop]  # failover needs two clusters: app goes
        # One serving region is left: nothing could carry its loss, and the preflight wants that said.
        config["fleet:dns"]["survive"] = 0
        config["fleet:submariner"]["clusters"].remove("prod-eu")

    def step3(config: dict[str, Any]) -> None:
        step2(config)
        config["fleet:clusters"] = [c for c in config["fleet:clusters"] if c["name"] != "prod-eu"]

    return [step1, step2, step3]


MGMT = "organization/fleet/mgmt"


def hub_out_steps() -> list[Callable[[dict[str, Any]], None]]:
    """The "Move the hub to its own stack" runbook (docs/runbooks.md), prod's edits (each builds on
    the last), from the single-stack fleet (tests/stacks/Pulumi.fleet.yaml) to the shipped Pulumi.prod.yaml."""

    def retire_hub(config: dict[str, Any]) -> None:
        next(c for c in config["fleet:clusters"] if c.get("role") == "hub")["retiring"] = True

    def drop_hub(config: dict[str, Any]) -> None:
        retire_hub(config)
        config["fleet:clusters"] = [c for c in config["fleet:clusters"] if c.get("role") != "hub"]
        names = [c["name"] for c in config["fleet:clusters"]]
        config.pop("fleet:argocd", None)
        config.pop("fleet:members", None)
        # The clusterset stays in prod: its broker moves to a production cluster.
        config["fleet:submariner"] = {**config["fleet:submariner"], "broker": names[0], "clusters": names}

    def join_mgmt(config: dict[str, Any]) -> None:
        drop_hub(config)
        config["fleet:hub"] = {"stack": MGMT}

    return [retire_hub, drop_hub, join_mgmt]
