"""The guardrails as ``pulumi_policy`` policies: the engine's view of a resource turned into a :class:`Resource`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError

from policy.guardrails import GUARDRAILS, Context, Guardrail, Resource

PACK_NAME = "fleet-guardrails"


def _plain(value: Any) -> Any:
    # The SDK hands out read-only proxies that raise on unknown (preview) values; copying them
    # raises the same error, which the SDK reads as "not applicable" for a resource policy.
    if isinstance(value, Mapping):
        return {key: _plain(child) for key, child in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(child) for child in value]
    return value


def from_validation_args(args: ResourceValidationArgs) -> Resource:
    return _resource(args, args.opts.parent or "", {})


def from_policy_resource(resource: PolicyResource) -> Resource:
    dependencies = {key: tuple(dep.urn for dep in deps) for key, deps in resource.property_dependencies.items()}
    return _resource(resource, resource.parent.urn if resource.parent is not None else "", dependencies)


def _resource(
    source: ResourceValidationArgs | PolicyResource, parent: str, property_dependencies: dict[str, tuple[str, ...]]
) -> Resource:
    # Both SDK views carry the same fields under the same names; only parent and dependencies differ.
    return Resource(
        urn=source.urn,
        type=source.resource_type,
        name=source.name,
        props=_plain(source.props),
        protect=bool(source.opts.protect),
        additional_secret_outputs=tuple(source.opts.additional_secret_outputs or ()),
        property_dependencies=property_dependencies,
        parent=parent,
    )


def _resource_policy(guardrail: Guardrail) -> ResourceValidationPolicy:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if args.resource_type not in guardrail.resource_types:
            return
        context = Context(config=guardrail.settings(args.get_config()))
        for message in guardrail.violations(from_validation_args(args), context):
            report_violation(message, None)

    return ResourceValidationPolicy(
        name=guardrail.name,
        description=guardrail.description,
        validate=validate,
        enforcement_level=EnforcementLevel.MANDATORY,
        config_schema=PolicyConfigSchema(properties={key: dict(spec) for key, spec in guardrail.config_schema.items()})
        if guardrail.config_schema
        else None,
    )


def _stack_policy(guardrail: Guardrail) -> StackValidationPolicy:
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        index: dict[str, Resource] = {}
        for policy_resource in args.resources:
            try:
                index[policy_resource.urn] = from_policy_resource(policy_resource)
            except UnknownValueError:
                # Not yet known (a preview of new resources): checked on the next run that knows it.
                continue
        context = Context(index, guardrail.settings(args.get_config()))
        for resource in index.values():
            for message in guardrail.violations(resource, context):
                report_violation(message, resource.urn)

    return StackValidationPolicy(
        name=guardrail.name,
        description=guardrail.description,
        validate=validate,
        enforcement_level=EnforcementLevel.MANDATORY,
    )


def policies() -> list[Policy]:
    """Every guardrail as a mandatory CrossGuard policy, in the order they are declared."""
    return [_stack_policy(g) if g.needs_stack else _resource_policy(g) for g in GUARDRAILS]
