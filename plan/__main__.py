"""python -m plan <stack> [--json] [--diagram FILE]: what a stack declares, offline.

Runs the real program under Pulumi mocks with the stack's real config: no AWS credentials, no
Pulumi CLI. Exit status 0 with the plan; 1 when the config is invalid (the problems are printed)
or a guardrail of the policy pack fails (the plan says which).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from components import flows
from components.validation import ConfigError, parse_fleet
from offline.harness import ROOT, run_stack, stack_config
from plan import report

# A stack that joins another stack's hub reads its outputs; offline, placeholders stand in.
PLACEHOLDER_HUB: dict[str, Any] = {
    "argocdHub": {"cluster": "<hub>", "namespace": "argocd", "roleArn": "<hub role>", "egressIps": ["192.0.2.1"]},
    "hubKubeconfig": "",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m plan", description=__doc__.splitlines()[0])
    parser.add_argument("stack", help="stack name: reads Pulumi.<stack>.yaml")
    parser.add_argument("--json", action="store_true", help="print the plan as JSON")
    parser.add_argument("--diagram", type=Path, help="write a Mermaid diagram of the topology to this file")
    args = parser.parse_args(argv)
    if not (ROOT / f"Pulumi.{args.stack}.yaml").is_file():
        print(f"no Pulumi.{args.stack}.yaml in {ROOT}", file=sys.stderr)
        return 1
    hub_stack = _hub_stack(args.stack)
    try:
        run = run_stack(args.stack, stack_outputs={hub_stack: PLACEHOLDER_HUB} if hub_stack else None)
    except ConfigError as error:
        print(str(error), file=sys.stderr)
        return 1
    spec = parse_fleet({key.removeprefix("fleet:"): value for key, value in stack_config(args.stack).items()})
    foreign = {flows.hub_stack_party(hub_stack): PLACEHOLDER_HUB["argocdHub"]["egressIps"]} if hub_stack else None
    plan = report.build(args.stack, run, report.flow_paths(spec, run, foreign))
    print(json.dumps(plan, indent=2, sort_keys=True) if args.json else report.text(plan), end="" if not args.json else "\n")
    if args.diagram:
        args.diagram.write_text(report.mermaid(plan))
    # Like `pulumi preview --policy-pack policy`: a failing mandatory guardrail fails the plan; so
    # does a flow with no path, which `pulumi up` would not notice at all.
    return 1 if any(plan["policy"].values()) or any(f["path"] is None for f in plan["flows"]) else 0


def _hub_stack(stack: str) -> str | None:
    import yaml

    config = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text()).get("config") or {}
    hub = config.get("fleet:hub")
    return str(hub["stack"]) if isinstance(hub, dict) and "stack" in hub else None


if __name__ == "__main__":
    sys.exit(main())
