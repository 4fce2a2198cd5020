"""Names AWS limits: every physical name the program asks for fits, for the longest names config allows."""

from __future__ import annotations

import copy
import string
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from components.planning import naming
from offline.harness import Run, physical_name_length, run_program, stack_config

LONG = "c" * 53 + "-long-name"  # 63 characters: the longest cluster name config accepts (a DNS label)
GROUP = "g" * 63


def longest_names() -> dict[str, Any]:
    """The prod stack with its clusters and node groups renamed to 63-character names."""
    config = copy.deepcopy(stack_config("fleet"))
    renames = {}
    for index, cluster in enumerate(config["fleet:clusters"]):
        new = f"{index}{LONG[1:]}"
        renames[cluster["name"]] = new
        cluster["name"] = new
        for k, group in enumerate(cluster["nodeGroups"]):
            group["name"] = f"{k}{GROUP[1:]}"
    text = repr(config)
    for old, new in renames.items():
        text = text.replace(f"'{old}'", f"'{new}'")
    renamed: dict[str, Any] = eval(text)
    return renamed


@pytest.fixture(scope="module")
def longest() -> Run:
    return run_program(longest_names())


def test_every_limited_name_fits_with_the_longest_names(longest: Run) -> None:
    checked = 0
    for registration in longest.registrations.values():
        limit = naming.NAME_LIMITS.get(registration.type)
        if limit is None:
            continue
        length = physical_name_length(registration)
        assert length <= limit, f"{registration.name} ({registration.type}) gets a {length}-character name; AWS allows {limit}"
        checked += 1
    assert {r.type for r in longest.registrations.values()} >= {
        "aws:lb/loadBalancer:LoadBalancer",
        "aws:lb/targetGroup:TargetGroup",
        "aws:iam/role:Role",
        "aws:ec2/launchTemplate:LaunchTemplate",
        "eks:index:ManagedNodeGroup",
    }
    assert checked > 20


def test_load_balancer_names_are_valid_and_distinct(longest: Run) -> None:
    names = [r.inputs["name"] for r in longest.of_type("aws:lb/loadBalancer:LoadBalancer")]
    assert len(set(names)) == len(names) == 2
    for name in names:
        assert not name.startswith("internal-"), "AWS reserves the prefix internal-"
        assert name[0] != "-"
        assert name[-1] != "-"
        assert set(name) <= set(string.ascii_lowercase + string.digits + "-")


def test_prod_names_are_readable(fleet: Run) -> None:
    assert fleet.named("prod-us-edge-nlb").inputs["name"] == "edge-prod-us"
    assert fleet.named("prod-us-edge-tg").inputs["name"] == "edge-prod-us-443"


@given(st.text(alphabet=string.ascii_lowercase + string.digits + "-", min_size=1, max_size=200), st.integers(16, 128))
def test_fit_keeps_short_names_and_shortens_long_ones_distinctly(name: str, limit: int) -> None:
    fitted = naming.fit(name, limit)
    assert len(fitted) <= limit
    if len(name) <= limit:
        assert fitted == name
    else:
        # Two long names that share the kept head still differ: the hash covers the whole name.
        assert naming.fit(name + "x", limit) != fitted or len(name + "x") <= limit


@given(st.text(alphabet=string.ascii_lowercase + "-", min_size=1, max_size=120))
def test_a_fitted_prefix_leaves_room_for_the_unique_suffix(prefix: str) -> None:
    for limit in (40, 63, 64, 128):
        fitted = naming.fit_prefix(prefix, limit)
        assert fitted.endswith("-")
        assert len(fitted) + naming.NAME_PREFIX_SUFFIX <= limit


@pytest.mark.parametrize("mode", ["peering", "transitGateway"])
def test_interconnect_names_fit_with_the_longest_names(mode: str) -> None:
    config = longest_names()
    config["fleet:interconnect"] = {"mode": mode}
    run = run_program(config)
    limited = [r for r in run.registrations.values() if r.type in naming.NAME_LIMITS]
    assert {r.type for r in limited} >= {"aws:route53/resolverEndpoint:ResolverEndpoint", "aws:route53/resolverRule:ResolverRule"}
    too_long = [r.name for r in limited if physical_name_length(r) > naming.NAME_LIMITS[r.type]]
    assert too_long == []
