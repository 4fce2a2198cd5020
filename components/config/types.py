"""Shapes every config section shares: the base model and the annotated types of AWS and Kubernetes values.

Each type checks its value against a fact of ``components.aws`` (a region AWS has, a version EKS
offers, a DNS-1123 label, a private range) and says what a valid value looks like.
"""

from __future__ import annotations

import difflib
import re
from ipaddress import IPv4Network
from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic.alias_generators import to_camel

from ..aws import cidr, eks_versions, labels, regions
from ..aws.instance_types import instance_type_error

_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$")
_VERSION = re.compile(r"^1\.\d{2}$")
_IAM_PRINCIPAL_ARN = re.compile(r"^arn:aws(-[a-z]+)*:iam::\d{12}:(role|user)/[\w+=,.@/-]+$")


class Model(BaseModel):
    """Every config section: unknown keys refused, frozen, camelCase keys."""

    model_config = ConfigDict(extra="forbid", frozen=True, alias_generator=to_camel, populate_by_name=True)


def _dns_label(value: str) -> str:
    if error := labels.dns1123_label_error(value):
        raise ValueError(error)
    return value


def _region(value: str) -> str:
    if not _REGION.match(value):
        raise ValueError(f"{value!r} is not an AWS region code (e.g. us-east-1, eu-west-1)")
    if value not in regions.ZONE_IDS:
        close = difflib.get_close_matches(value, list(regions.ZONE_IDS), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"{value!r} is not a region AWS has{hint}")
    return value


def _version_text(value: object) -> object:
    # YAML reads an unquoted 1.30 as the float 1.3: say how to write it instead of a type error.
    if isinstance(value, float | int) and not isinstance(value, bool):
        raise ValueError(f'{value!r} is a number; quote the version, e.g. "{eks_versions.NEWEST}"')
    return value


def _version(value: str) -> str:
    if not _VERSION.match(value):
        raise ValueError(f'{value!r} is not a Kubernetes minor version such as "{eks_versions.NEWEST}"')
    if value not in eks_versions.SUPPORT:
        supported = ", ".join(eks_versions.SUPPORT)
        raise ValueError(f"{value!r} is not a version EKS offers here (supported: {supported})")
    return value


def _label_scalars(value: object) -> object:
    # YAML reads true, false, yes, on, 1.5 ... as booleans and numbers; Kubernetes label values are text.
    if isinstance(value, dict):
        problems = [
            f'label {key}: {text!r} is a YAML {_yaml_kind(text)}; quote it: {key}: "{_yaml_text(text)}"'
            for key, text in value.items()
            if isinstance(text, bool | int | float)
        ]
        if problems:
            raise ValueError("; ".join(problems))
    return value


def _yaml_kind(value: object) -> str:
    return "boolean" if isinstance(value, bool) else "number"


def _yaml_text(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _label_map(value: dict[str, str]) -> dict[str, str]:
    problems = [
        error for key, text in value.items() for error in (labels.label_key_error(key), labels.label_value_error(text)) if error
    ]
    if problems:
        raise ValueError("; ".join(problems))
    return value


def _network(value: object) -> IPv4Network:
    if isinstance(value, IPv4Network):
        return value
    return cidr.parse_network(value)  # type: ignore[arg-type]


def prefix_between(low: int, high: int):  # type: ignore[no-untyped-def]
    def check(network: IPv4Network) -> IPv4Network:
        if not low <= network.prefixlen <= high:
            raise ValueError(f"{network} must be between /{low} and /{high}")
        return network

    return check


def private_range(network: IPv4Network) -> IPv4Network:
    if not cidr.is_private(network):
        raise ValueError(f"{network} is not a private (RFC 1918) range")
    return network


# Wider than a /8 is the internet in all but name (0.0.0.0/1 + 128.0.0.0/1 = 0.0.0.0/0); the policy
# pack counts the union of the allow list the same way (policy/guardrails.py MAX_ALLOWED_ADDRESSES).
WIDEST_API_ACCESS_PREFIX = 8


def not_everywhere(network: IPv4Network) -> IPv4Network:
    if network.prefixlen < WIDEST_API_ACCESS_PREFIX:
        reach = "the whole internet" if network.prefixlen == 0 else "most of the internet"
        raise ValueError(
            f"{network} opens the Kubernetes API to {reach}; "
            f"list the networks that need it (/{WIDEST_API_ACCESS_PREFIX} or narrower)"
        )
    return network


def _iam_principal(value: str) -> str:
    if not _IAM_PRINCIPAL_ARN.match(value):
        raise ValueError(f"{value!r} is not an IAM role or user ARN")
    return value


def _instance_type(value: str) -> str:
    if error := instance_type_error(value):
        raise ValueError(error)
    return value


Network = Annotated[IPv4Network, BeforeValidator(_network)]
DnsLabel = Annotated[str, AfterValidator(_dns_label)]
LabelMap = Annotated[dict[str, str], BeforeValidator(_label_scalars), AfterValidator(_label_map)]
IamPrincipalArn = Annotated[str, AfterValidator(_iam_principal)]
KubernetesVersion = Annotated[str, BeforeValidator(_version_text), AfterValidator(_version)]


def _label_key(key: str) -> str:
    if error := labels.label_key_error(key):
        raise ValueError(error)
    return key


def _label_value(value: str) -> str:
    if error := labels.label_value_error(value):
        raise ValueError(error)
    return value


_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def _domain(value: str) -> str:
    value = value.rstrip(".").lower()
    if not _DOMAIN.match(value):
        raise ValueError(f"{value!r} is not a DNS name such as api.example.com")
    return value


def _hosted_zone_id(value: str) -> str:
    if not re.match(r"^Z[A-Z0-9]{4,31}$", value):
        raise ValueError(f"{value!r} is not a Route53 hosted zone id (Z followed by letters and digits)")
    return value


DomainName = Annotated[str, AfterValidator(_domain)]
Region = Annotated[str, AfterValidator(_region)]
InstanceType = Annotated[str, AfterValidator(_instance_type)]
LabelKey = Annotated[str, AfterValidator(_label_key)]
LabelValue = Annotated[str, AfterValidator(_label_value)]
HostedZoneId = Annotated[str, AfterValidator(_hosted_zone_id)]
Quota = Annotated[int, Field(ge=1)]
