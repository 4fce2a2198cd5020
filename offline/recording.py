"""A mock monitor that records every registration the program makes, as a reviewer of a preview sees it.

Each registration keeps its inputs (secrets unwrapped, remembering where), provider, parent, protect
flag, dependencies and replacement options.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any

import pulumi
from google.protobuf import json_format
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc

_SIG = rpc._special_sig_key
_SECRET = rpc._special_secret_sig
_RESOURCE = rpc._special_resource_sig


@dataclass
class Registration:
    urn: str
    id: str
    type: str
    name: str
    custom: bool
    remote: bool
    parent: str
    protect: bool
    provider: str
    providers: dict[str, str]
    dependencies: list[str]
    property_dependencies: dict[str, list[str]]
    inputs: dict[str, Any]
    secret_inputs: set[str]
    outputs: dict[str, Any] = field(default_factory=dict)
    delete_before_replace: bool = False
    ignore_changes: list[str] = field(default_factory=list)
    replace_on_changes: list[str] = field(default_factory=list)
    additional_secret_outputs: list[str] = field(default_factory=list)
    # Resources passed by reference (an eks.Cluster into eks.ManagedNodeGroup): the SDK leaves them
    # out of a remote component's dependencies, but its provider waits for them all the same.
    references: set[str] = field(default_factory=set)
    # The transforms in its options, as the Python callables: the engine runs them on the resource and
    # (for a packaged component such as eks.ManagedNodeGroup) on the children its provider registers.
    transforms: list[Any] = field(default_factory=list)
    # The URNs its aliases name: state under one of them is this resource (moved, not replaced).
    aliases: list[str] = field(default_factory=list)

    @property
    def provider_urn(self) -> str:
        # A provider reference is "<urn>::<id>".
        return self.provider.rsplit("::", 1)[0] if self.provider else ""


def _plain(value: Any, path: str, secrets: set[str]) -> Any:
    """Unwrap Pulumi's wire encoding: secrets to their values (remembering where), refs to URNs."""
    if isinstance(value, dict):
        sig = value.get(_SIG)
        if sig == _SECRET:
            secrets.add(path)
            return _plain(value.get("value"), path, secrets)
        if sig == _RESOURCE:
            return value["urn"]
        return {k: _plain(v, f"{path}.{k}" if path else k, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v, f"{path}[{i}]", secrets) for i, v in enumerate(value)]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _referenced_urns(value: Any) -> set[str]:
    """URNs of resources passed as inputs: a remote component's provider waits for them."""
    if isinstance(value, dict):
        if value.get(_SIG) == _RESOURCE:
            return {value["urn"]}
        return {urn for child in value.values() for urn in _referenced_urns(child)}
    if isinstance(value, list):
        return {urn for child in value for urn in _referenced_urns(child)}
    return set()


def _urns_for_refs(value: Any) -> Any:
    if isinstance(value, dict):
        if value.get(_SIG) == _RESOURCE:
            return value["urn"]
        return {k: _urns_for_refs(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_urns_for_refs(v) for v in value]
    return value


# The custom resource a packaged component registers for its inputs, which the engine runs the
# component's transforms on (pulumi-eks nodejs/eks/nodegroup.ts: ManagedNodeGroup creates an
# aws.eks.NodeGroup from the same inputs).
PACKAGED_CHILD = {"eks:index:ManagedNodeGroup": "aws:eks/nodeGroup:NodeGroup"}


def _as_child_gets(type_: str, name: str, inputs: dict[str, Any], transforms: list[Any]) -> dict[str, Any]:
    """A packaged component's inputs with what its transforms add to its child: the engine applies them
    to the child (the mock monitor runs none), so a diff of the component sees the child's change."""
    child = PACKAGED_CHILD.get(type_)
    if child is None:
        return inputs
    for transform in transforms:
        result = transform(pulumi.ResourceTransformArgs(True, child, name, dict(inputs), pulumi.ResourceOptions()))
        if result is not None:
            inputs = {**inputs, **{k: v for k, v in result.props.items() if k not in inputs}}
    return inputs


STACK_TYPE = "pulumi:pulumi:Stack"


class DuplicateUrnError(Exception):
    """What `pulumi up` stops with when the program registers one URN twice."""


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """Records registrations; replaces resource references in inputs with their URNs.

    The stock monitor rebuilds resource references as live resources on its worker thread,
    which then fail with 'attached to a different loop' when awaited from the program's loop
    (seen with an eks.Cluster passed to eks.ManagedNodeGroup); URN strings avoid that.
    """

    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks)
        mocks.monitor = self  # type: ignore[attr-defined]
        self.registrations: dict[str, Registration] = {}
        self.local = threading.local()
        self.lock = threading.Lock()

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802
        wire = json_format.MessageToDict(request.object)
        secrets: set[str] = set()
        inputs = _plain(wire, "", secrets)
        references = _referenced_urns(wire)
        request.object.Clear()
        request.object.update(_urns_for_refs(wire))
        self.local.request = request
        self.local.transforms = []
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        if request.type == "pulumi:pulumi:Stack":
            return response
        transforms = list(getattr(self.local, "transforms", []))
        if request.remote:
            inputs = _as_child_gets(request.type, request.name, inputs, transforms)
        registration = Registration(
            urn=response.urn,
            id=response.id,
            type=request.type,
            name=request.name,
            custom=request.custom,
            remote=request.remote,
            parent=request.parent,
            protect=bool(request.protect),
            provider=request.provider,
            providers=dict(request.providers),
            dependencies=list(request.dependencies),
            property_dependencies={k: list(v.urns) for k, v in request.propertyDependencies.items()},
            inputs=inputs,
            secret_inputs=secrets,
            outputs=self.resources[response.urn].state,
            delete_before_replace=request.deleteBeforeReplace,
            ignore_changes=list(request.ignoreChanges),
            replace_on_changes=list(request.replaceOnChanges),
            additional_secret_outputs=list(request.additionalSecretOutputs),
            references=references,
            transforms=transforms,
            aliases=self._alias_urns(request),
        )
        with self.lock:
            if response.urn in self.registrations:
                # The engine refuses a second registration of one URN (pulumi/pulumi step_generator.go,
                # generateURN: "Duplicate resource URN"); the stock mock monitor accepts it silently.
                raise DuplicateUrnError(f"Duplicate resource URN '{response.urn}'; try giving it a unique name")
            self.registrations[response.urn] = registration
        return response

    def _alias_urns(self, request: Any) -> list[str]:
        """The URNs of a registration's aliases, as the engine computes them from alias specs: the type
        qualified by every ancestor's (the stock mock monitor keeps only the parent's own)."""
        urns = []
        for alias in request.aliases:
            if alias.urn:
                urns.append(alias.urn)
                continue
            spec = alias.spec
            parent = "" if spec.noParent else (spec.parentUrn or request.parent)
            qualified = spec.type or request.type
            # The engine leaves the root stack's type out of its children's URNs (the stock mock
            # monitor puts it in).
            parent_type = parent.split("::")[2].removeprefix(f"{STACK_TYPE}$") if parent else STACK_TYPE
            if parent_type != STACK_TYPE:
                qualified = f"{parent_type}${qualified}"
            urns.append(f"urn:pulumi:{pulumi.get_stack()}::{pulumi.get_project()}::{qualified}::{spec.name or request.name}")
        return urns

    def _aws_provider(self, reference: str) -> Registration | None:
        provider_id = reference.rsplit("::", 1)[-1] if reference else ""
        # Worker threads add registrations while others look providers up: read a snapshot.
        with self.lock:
            registrations = list(self.registrations.values())
        return next(
            (r for r in registrations if r.type == "pulumi:providers:aws" and f"{r.name}-id" == provider_id),
            None,
        )

    def account_of_provider(self, reference: str) -> str | None:
        """The account an AWS provider acts in, when its inputs say: the account it is bound to
        (allowedAccountIds), else the account of the role it assumes; None: its credentials'."""
        provider = self._aws_provider(reference)
        if provider is None:
            return None
        allowed = _listed(provider.inputs.get("allowedAccountIds"))
        if allowed:
            return str(allowed[0])
        assumed = _listed(provider.inputs.get("assumeRoles"))
        return str(assumed[0]["roleArn"]).split(":")[4] if assumed else None

    def region_of_provider(self, reference: str) -> str | None:
        provider = self._aws_provider(reference)
        return str(provider.inputs.get("region")) if provider is not None else None


# Pulumi's auto-name: "<logical name>-<7 random characters>"; name_prefix: the prefix and 26 characters.
_AUTONAME_SUFFIX = 8
_NAME_PREFIX_SUFFIX = 26
_NAME_KEYS = {"eks:index:ManagedNodeGroup": ("nodeGroupName", "nodeGroupNamePrefix")}


def physical_name_length(registration: Registration) -> int:
    """The length of the name AWS receives for this resource: explicit, from a prefix, or auto-named."""
    name_key, prefix_key = _NAME_KEYS.get(registration.type, ("name", "namePrefix"))
    if name := registration.inputs.get(name_key):
        return len(str(name))
    if prefix := registration.inputs.get(prefix_key):
        return len(str(prefix)) + _NAME_PREFIX_SUFFIX
    return len(registration.name) + _AUTONAME_SUFFIX


def _listed(value: Any) -> list[Any]:
    """A provider input as registered: a list, or its JSON text."""
    if isinstance(value, str):
        value = json.loads(value)
    return list(value or [])
