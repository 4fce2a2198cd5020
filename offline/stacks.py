"""Stack config as the Pulumi CLI hands it to the program, read from the project's stack files.

``Pulumi.yaml`` defaults overlaid by ``Pulumi.<stack>.yaml``, with structured values as JSON text.
"""

from __future__ import annotations

import hashlib
import json
from ipaddress import ip_network
from pathlib import Path
from typing import Any

from components.config import stack_files
from components.config.stack_files import StackFile, is_cell_file, read_stack_file
from components.planning import cells
from components.planning.trust import hub_role_name_prefix

from .mock_aws import EKS_CLUSTERS, FAKE_CA, PEERINGS, eks_description, eks_endpoint, peering_description

ROOT = Path(__file__).resolve().parents[1]
PROJECT = "fleet"
# The DIY backends' organization (what `pulumi.get_organization()` returns there).
ORGANIZATION = "organization"


def project_defaults() -> dict[str, Any]:
    return stack_files.project_defaults(ROOT / "Pulumi.yaml")


# Where stack files are read from (the project directory; tests point it elsewhere).
STACK_DIR = ROOT


def stack_path(stack: str) -> Path:
    """``Pulumi.<stack>.yaml``; for a cell (``<env>.<cluster>``, planning/cells.py), its environment's file,
    which it runs with (``--config-file``)."""
    environment = cells.environment_of(stack)
    if environment != stack and (STACK_DIR / f"Pulumi.{environment}.yaml").is_file():
        return STACK_DIR / f"Pulumi.{environment}.yaml"
    return STACK_DIR / f"Pulumi.{stack}.yaml"


def available_stacks() -> list[str]:
    return sorted(
        p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in STACK_DIR.glob("Pulumi.*.yaml") if not is_cell_file(p)
    )


def stack_file(stack: str) -> StackFile:
    """``Pulumi.<stack>.yaml`` read strictly (StackFileError names file, line and column), secrets as placeholders."""
    return read_stack_file(stack_path(stack))


def stack_file_config(stack: str) -> dict[str, Any]:
    return stack_file(stack).config


def stack_config(stack: str = "prod") -> dict[str, Any]:
    """The config values the CLI would pass for ``stack``, as Python values keyed ``fleet:...``."""
    return {**project_defaults(), **stack_file_config(stack)}


def hub_stack_of(stack: str) -> str | None:
    """The fully qualified hub stack ``stack`` joins (its ``fleet:hub.stack``), if any."""
    hub = stack_file(stack).config.get("fleet:hub")
    return str(hub["stack"]) if isinstance(hub, dict) and "stack" in hub else None


# A stack that joins another stack's hub reads its outputs; offline, placeholders stand in, shaped as
# the hub would export them, so that the joining stack's checks (planning/trust.py) accept them.
PLACEHOLDER_EGRESS = "192.0.2.1"
MOCK_ACCOUNT = "123456789012"


def account_of(config: dict[str, Any]) -> str:
    """The account a stack's config deploys into: fleet:account.id, else its deployer's."""
    account = config.get("fleet:account")
    if isinstance(account, dict) and account.get("id"):
        return str(account["id"])
    principal = str((config.get("fleet:deployer") or {}).get("principal", ""))
    parts = principal.split(":")
    return parts[4] if len(parts) > 4 and parts[4] else MOCK_ACCOUNT


def placeholder_hub(reference: str, account: str | None = None) -> dict[str, Any]:
    """What the hub stack ``reference`` exports (argocdHub), offline: its role in its account (from its
    stack file when this project has it, else ``account``), one NAT address."""
    hub = reference.rsplit("/", 1)[-1]
    if stack_path(hub).is_file():
        account = account_of(stack_file_config(hub))
    role = f"arn:aws:iam::{account or MOCK_ACCOUNT}:role/{hub_role_name_prefix(reference)}20261207000000000000000001"
    return {"argocdHub": {"cluster": "<hub>", "namespace": "argocd", "roleArn": role, "egressIps": [PLACEHOLDER_EGRESS]}}


def member_placeholders(reference: str, hub_config: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """Per stack the hub reads for the member ``reference``, its placeholder outputs: the member's own, or
    for a celled member (fleet:cells) each cell's, holding its own cluster."""
    member = reference.rsplit("/", 1)[-1]
    config = stack_file_config(member) if stack_path(member).is_file() else {}
    if not config.get("fleet:cells"):
        return {reference: placeholder_registration(reference, hub_config)}
    whole = placeholder_registration(reference, hub_config)["argocdRegistration"]["clusters"]
    return {f"{reference}.{name}": {"argocdRegistration": {"clusters": {name: entry}}} for name, entry in whole.items()}


def placeholder_registration(reference: str, hub_config: dict[str, Any] | None = None) -> dict[str, Any]:
    """What a member stack of this project (``organization/project/stack``) exports for its hub to pull
    (planning/gitops.REGISTRATION_OUTPUT), offline: its clusters from its stack file, servers, ARNs and
    peering requests shaped as AWS's (the request also recorded as EC2 would describe it)."""
    member = reference.rsplit("/", 1)[-1]
    config = stack_file_config(member) if stack_path(member).is_file() else {}
    clusters = [c for c in config.get("fleet:clusters") or [] if isinstance(c, dict) and "name" in c]
    account = account_of(config)
    hub_clusters = (hub_config or {}).get("fleet:clusters") or []
    hub = next((c for c in hub_clusters if isinstance(c, dict) and c.get("role") == "hub"), None)
    hub_region = str(hub.get("region", "us-east-1")) if hub else "us-east-1"
    hub_cidr = str(hub.get("vpcCidr", "")) if hub else ""
    hub_account = account_of(hub_config or {})
    exported: dict[str, Any] = {}
    for c in clusters:
        name, region, vpc = str(c["name"]), str(c.get("region", "us-east-1")), str(c.get("vpcCidr", "10.0.0.0/16"))
        digest = hashlib.sha256(f"placeholder/{member}/{name}".encode()).hexdigest()
        peering = f"pcx-{digest[:17]}"
        PEERINGS[peering] = peering_description(peering, account, vpc, region, hub_account, hub_region, "", hub_cidr)
        server = eks_endpoint(name, region)
        # The member's cluster as EKS describes it in the member's account (what the hub checks against).
        EKS_CLUSTERS.setdefault((account, region, name), eks_description(account, region, name, server, FAKE_CA))
        exported[name] = {
            "server": server,
            "caData": FAKE_CA,
            "arn": f"arn:aws:eks:{region}:{account}:cluster/{name}",
            # Read only when the hub peers its members (fleet:interconnect).
            "interconnect": {"peeringConnectionId": peering, "resolverIps": [str(ip_network(vpc)[i]) for i in (10, 11)]},
        }
    return {"argocdRegistration": {"clusters": exported}}


def cli_encoded(config: dict[str, Any]) -> dict[str, str]:
    """Values as the language host receives them: strings as-is, everything else as JSON."""
    return {key: value if isinstance(value, str) else json.dumps(value) for key, value in config.items()}
