"""Runs the real fleet program offline under Pulumi mocks and records what it registers.

The jobs live apart: ``stacks`` (the config the CLI would pass), ``recording`` (the monitor and its
registrations), ``mock_aws`` (the mocks that answer like AWS); this module runs the program with
them. Its re-exports keep ``from offline.harness import ...`` the one import tests need.
"""

from __future__ import annotations

import asyncio
import copy
import gc
import runpy
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pulumi

from .mock_aws import (
    ACCOUNT,
    DEPLOYER_ROLE_ARN,
    DEPLOYER_SESSION_ARN,
    EKS_REFUSED_ZONE_IDS,
    HOSTED_ZONE_ID,
    NLB_ZONE_IDS,
    DuplicateSubnetsInSameZoneError,
    FleetMocks,
    PeeringRefusedError,
    ResourceInUseError,
    RouteAlreadyExistsError,
    UnsupportedAvailabilityZoneError,
    zone_table,
)
from .recording import RecordingMonitor, Registration, physical_name_length
from .stacks import (
    ORGANIZATION,
    PROJECT,
    ROOT,
    available_stacks,
    cli_encoded,
    hub_stack_of,
    member_placeholders,
    placeholder_hub,
    placeholder_registration,
    project_defaults,
    stack_config,
    stack_file,
    stack_file_config,
    stack_path,
)

__all__ = [
    "ACCOUNT",
    "DEPLOYER_ROLE_ARN",
    "DEPLOYER_SESSION_ARN",
    "EKS_REFUSED_ZONE_IDS",
    "HOSTED_ZONE_ID",
    "NLB_ZONE_IDS",
    "PROJECT",
    "ROOT",
    "DuplicateSubnetsInSameZoneError",
    "FleetMocks",
    "PeeringRefusedError",
    "RecordingMonitor",
    "Registration",
    "ResourceInUseError",
    "RouteAlreadyExistsError",
    "Run",
    "UnsupportedAvailabilityZoneError",
    "available_stacks",
    "cli_encoded",
    "creator_session",
    "creator_sessions",
    "deployer_session",
    "hub_stack_of",
    "member_placeholders",
    "physical_name_length",
    "placeholder_hub",
    "placeholder_registration",
    "project_defaults",
    "run_program",
    "run_stack",
    "stack_config",
    "stack_file",
    "stack_file_config",
    "stack_path",
    "zone_table",
]


@dataclass
class Run:
    registrations: dict[str, Registration]
    exports: dict[str, Any]
    secret_exports: set[str]
    warnings: list[str]

    def of_type(self, type_token: str) -> list[Registration]:
        return sorted((r for r in self.registrations.values() if r.type == type_token), key=lambda r: r.name)

    def named(self, name: str) -> Registration:
        matches = [r for r in self.registrations.values() if r.name == name]
        assert len(matches) == 1, f"{len(matches)} resources named {name!r}"
        return matches[0]

    def by_id(self, resource_id: str) -> Registration | None:
        """The registration the mocks gave this id, if any."""
        return next((r for r in self.registrations.values() if r.id == resource_id), None)

    def children_of(self, urn: str) -> Iterator[Registration]:
        """Every registration below ``urn`` in the parent tree."""
        for registration in self.registrations.values():
            parent = registration.parent
            while parent:
                if parent == urn:
                    yield registration
                    break
                parent = self.registrations[parent].parent if parent in self.registrations else ""

    def ancestors(self, registration: Registration) -> list[Registration]:
        chain = []
        parent = registration.parent
        while parent in self.registrations:
            chain.append(self.registrations[parent])
            parent = self.registrations[parent].parent
        return chain

    def depends_on(self, registration: Registration) -> set[str]:
        """URNs this registration waits for: explicit and property dependencies, references, its provider."""
        direct = set(registration.dependencies) | registration.references
        for urns in registration.property_dependencies.values():
            direct |= set(urns)
        if registration.provider:
            direct.add(registration.provider_urn)
        return direct

    def transitive_dependencies(self, registration: Registration) -> set[str]:
        seen: set[str] = set()
        stack = list(self.depends_on(registration))
        while stack:
            urn = stack.pop()
            if urn in seen or urn not in self.registrations:
                continue
            seen.add(urn)
            stack.extend(self.depends_on(self.registrations[urn]))
        return seen


class _WarningCollector:
    def __init__(self) -> None:
        self.messages: list[str] = []

    def __call__(self, message: str, *args: Any, **kwargs: Any) -> None:
        self.messages.append(message)


def run_program(
    config: dict[str, Any],
    stack: str = "prod",
    preview: bool = False,
    zones_per_region: dict[str, int] | None = None,
    registrations_on_error: list[str] | None = None,
    stack_outputs: dict[str, dict[str, Any]] | None = None,
    caller_arn: str = DEPLOYER_SESSION_ARN,
    creator_arn: str | None = None,
    entry: Callable[[], None] | None = None,
    creators: dict[str, str] | None = None,
    running: dict[str, str] | None = None,
    describe_errors: dict[str, str] | None = None,
    running_tags: dict[str, dict[str, str]] | None = None,
    addresses: dict[tuple[str, str, str], dict[str, str]] | None = None,
) -> Run:
    """Run ``__main__.py`` under mocks with ``config`` (Python values keyed ``fleet:...``).

    When the program raises, the names of whatever it registered before are appended to
    ``registrations_on_error`` (if given) and the exception propagates. ``entry`` runs instead of
    ``__main__.py`` (the benchmarks' floor replays a recorded graph this way).
    """
    # A hub pulls its members' registrations: members not given answer with placeholders from their stack files.
    members = [str(m) for m in config.get("fleet:members") or []]
    placeholders = {name: outputs for m in members for name, outputs in member_placeholders(m, config).items()}
    stack_outputs = {**placeholders, **(stack_outputs or {})}
    # A member reads its hub's outputs: a hub not given answers with placeholders.
    hub = config.get("fleet:hub")
    if isinstance(hub, dict) and "stack" in hub and str(hub["stack"]) not in stack_outputs:
        stack_outputs[str(hub["stack"])] = placeholder_hub(str(hub["stack"]), hub.get("account"))
    mocks = FleetMocks(
        zones_per_region, stack_outputs, caller_arn, creator_arn, creators, running, describe_errors, running_tags, addresses
    )
    monitor = RecordingMonitor(mocks)
    # set_mocks keeps an existing root stack resource: without this, a run after another stack's run
    # would parent its top-level resources to that stack's root (a URN of the wrong stack).
    pulumi.runtime.settings.ROOT.set(None)
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack, preview=preview, monitor=monitor, organization=ORGANIZATION)
    pulumi.runtime.set_all_config(cli_encoded(config), [])

    exports: dict[str, Any] = {}
    resolved: dict[str, Any] = {}
    secret_exports: set[str] = set()
    warnings = _WarningCollector()

    def record_export(name: str, value: Any) -> None:
        exports[name] = value

    async def resolve() -> None:
        for name, value in exports.items():
            output = pulumi.Output.from_input(value)
            resolved[name] = await output.future()
            if await output.is_secret():
                secret_exports.add(name)

    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def program() -> Any:
        original_export, original_warn = pulumi.export, pulumi.log.warn
        pulumi.export, pulumi.log.warn = record_export, warnings  # type: ignore[assignment]
        try:
            if entry is None:
                runpy.run_path(str(ROOT / "__main__.py"), run_name="__pulumi_program__")
            else:
                entry()
        finally:
            pulumi.export, pulumi.log.warn = original_export, original_warn
        return asyncio.ensure_future(resolve())

    # The collector spends 40-60% of an evaluation walking the SDK's reference cycles; the run is
    # short-lived, so it runs with the collector off (measured: about half the evaluation time, +1-10% memory).
    collecting = gc.isenabled()
    gc.disable()
    try:
        program()
    except Exception:
        if registrations_on_error is not None:
            registrations_on_error.extend(sorted(r.name for r in monitor.registrations.values()))
        raise
    finally:
        if collecting:
            gc.enable()
    return Run(dict(monitor.registrations), resolved, secret_exports, warnings.messages)


def deployer_session(config: dict[str, Any]) -> str:
    """The session ARN a CI run of the configured deployer (fleet:deployer.principal) presents."""
    return _session(str((config.get("fleet:deployer") or {}).get("principal", DEPLOYER_ROLE_ARN)))


def creator_session(config: dict[str, Any]) -> str:
    """The session that created the stack's clusters (fleet:deployer.creator, else the deployer): the
    principal EKS gave its own access entry to."""
    deployer = config.get("fleet:deployer") or {}
    return _session(str(deployer.get("creator") or deployer.get("principal", DEPLOYER_ROLE_ARN)))


def creator_sessions(config: dict[str, Any]) -> dict[str, str]:
    """Per cluster named in fleet:deployer.creators, the session that created it."""
    creators = (config.get("fleet:deployer") or {}).get("creators") or {}
    return {str(cluster): _session(str(arn)) for cluster, arn in creators.items()}


def _session(principal: str) -> str:
    if ":role/" not in principal:
        return principal
    account, name = principal.split(":")[4], principal.rsplit("/", 1)[-1]
    return f"arn:aws:sts::{account}:assumed-role/{name}/ci-session"


def run_stack(stack: str = "prod", mutate: Callable[[dict[str, Any]], None] | None = None, **options: Any) -> Run:
    """Run the program with ``stack``'s real config, optionally changed by ``mutate`` first, as its
    configured deployer unless ``caller_arn`` says otherwise."""
    config = copy.deepcopy(stack_config(stack))
    if mutate is not None:
        mutate(config)
    options.setdefault("caller_arn", deployer_session(config))
    options.setdefault("creator_arn", creator_session(config))
    options.setdefault("creators", creator_sessions(config))
    return run_program(config, stack=stack, **options)
