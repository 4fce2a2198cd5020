"""Stack config as the Pulumi CLI hands it to the program, read from the project's stack files.

``Pulumi.yaml`` defaults overlaid by ``Pulumi.<stack>.yaml``, with structured values as JSON text.
"""

from __future__ import annotations

import json
from ipaddress import ip_network
from pathlib import Path
from typing import Any

from components.config.stack_files import StackFile, load_yaml, read_stack_file

ROOT = Path(__file__).resolve().parents[1]
PROJECT = "fleet"


def project_defaults() -> dict[str, Any]:
    project = load_yaml(ROOT / "Pulumi.yaml")
    return {
        f"{PROJECT}:{key}": spec["default"]
        for key, spec in (project.get("config") or {}).items()
        if isinstance(spec, dict) and "default" in spec
    }


# Where stack files are read from (the project directory; tests point it elsewhere).
STACK_DIR = ROOT


def stack_path(stack: str) -> Path:
    return STACK_DIR / f"Pulumi.{stack}.yaml"


def available_stacks() -> list[str]:
    return sorted(p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in STACK_DIR.glob("Pulumi.*.yaml"))


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


# A stack that joins another stack's hub reads its outputs; offline, placeholders stand in.
PLACEHOLDER_HUB: dict[str, Any] = {
    "argocdHub": {"cluster": "<hub>", "namespace": "argocd", "roleArn": "<hub role>", "egressIps": ["192.0.2.1"]},
}


def placeholder_registration(reference: str) -> dict[str, Any]:
    """What a member stack of this project (``organization/project/stack``) exports for its hub to pull
    (planning/gitops.REGISTRATION_OUTPUT), offline: its clusters from its stack file, fake servers and CA."""
    member = reference.rsplit("/", 1)[-1]
    clusters = stack_file_config(member).get("fleet:clusters") or [] if stack_path(member).is_file() else []
    return {
        "argocdRegistration": {
            "clusters": {
                str(c["name"]): {
                    "server": f"https://{c['name']}.placeholder.eks.amazonaws.com",
                    "caData": "UExBQ0VIT0xERVI=",
                    "arn": f"arn:aws:eks:{c.get('region', 'us-east-1')}:123456789012:cluster/{c['name']}",
                    # Read only when the hub peers its members (fleet:interconnect).
                    "interconnect": {
                        "peeringConnectionId": f"pcx-placeholder-{c['name']}",
                        "resolverIps": [str(ip_network(c.get("vpcCidr", "10.0.0.0/16"))[i]) for i in (10, 11)],
                    },
                }
                for c in clusters
                if isinstance(c, dict) and "name" in c
            }
        }
    }


def cli_encoded(config: dict[str, Any]) -> dict[str, str]:
    """Values as the language host receives them: strings as-is, everything else as JSON."""
    return {key: value if isinstance(value, str) else json.dumps(value) for key, value in config.items()}
