"""The reference stacks' resource graphs, locked: one digest per URN of what Pulumi would diff.

A refactor (a module moved, a concern renamed) must leave every URN and every input of prod
and staging as it was, or Pulumi would replace or delete live resources. The lock records, per
URN, a digest of its inputs, parent, provider, protect flag, dependencies and replacement
options; ``tests/test_graph_lock.py`` compares a fresh evaluation against it. An intended graph
change is re-locked with ``python -m offline.graph_lock --update`` and shows in review as a diff
of the lock file, URN by URN.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

from offline.harness import ROOT, Registration, Run, run_stack

LOCK_DIR = ROOT / "tests" / "graph"
# The stacks locked, and how each one is evaluated: prod and staging join mgmt's hub through its
# outputs; fleet is the single-stack fleet most tests evaluate (tests/stacks/Pulumi.fleet.yaml).
LOCKED_STACKS = ("fleet", "mgmt", "prod", "staging")
HUB = "organization/fleet/mgmt"


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=sorted).encode()).hexdigest()[:16]


def registration_digest(registration: Registration) -> str:
    """What a change of would make Pulumi update, replace or re-parent this resource."""
    return _digest(
        {
            "inputs": registration.inputs,
            "secret": sorted(registration.secret_inputs),
            "parent": registration.parent,
            "provider": registration.provider_urn,
            "protect": registration.protect,
            "dependencies": sorted(registration.dependencies),
            "deleteBeforeReplace": registration.delete_before_replace,
            "ignoreChanges": sorted(registration.ignore_changes),
            "replaceOnChanges": sorted(registration.replace_on_changes),
        }
    )


def fingerprint(run: Run) -> dict[str, Any]:
    """Per URN its digest, and the stack outputs' digest: the lock file's content."""
    return {
        "resources": {urn: registration_digest(r) for urn, r in sorted(run.registrations.items())},
        "outputs": {name: _digest(value) for name, value in sorted(run.exports.items())},
    }


def evaluate(stack: str, mgmt: Run | None = None) -> Run:
    """Evaluate a locked stack as the tests' fixtures do (prod and staging answered with mgmt's hub outputs)."""
    if stack in ("prod", "staging"):
        hub = mgmt or run_stack("mgmt")
        outputs = {k: hub.exports[k] for k in ("argocdHub",)}
        return run_stack(stack, stack_outputs={HUB: outputs})
    return run_stack(stack)


def lock_path(stack: str) -> Path:
    return LOCK_DIR / f"{stack}.json"


def read_lock(stack: str) -> dict[str, Any]:
    return dict(json.loads(lock_path(stack).read_text()))


def differences(locked: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """Each URN or output added, removed or changed, one line each, sorted."""
    lines: list[str] = []
    for section in ("resources", "outputs"):
        old, new = locked.get(section, {}), current.get(section, {})
        lines += [f"added {section[:-1]}: {k}" for k in sorted(new.keys() - old.keys())]
        lines += [f"removed {section[:-1]}: {k}" for k in sorted(old.keys() - new.keys())]
        lines += [f"changed {section[:-1]}: {k}" for k in sorted(old.keys() & new.keys()) if old[k] != new[k]]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m offline.graph_lock", description=__doc__.splitlines()[0])
    parser.add_argument("--update", action="store_true", help="write the lock files instead of comparing")
    args = parser.parse_args(argv)
    # The stacks as the tests read them: the shipped files and the fixtures' (tests/stacks/).
    from components.config import hub_stack
    from offline import stacks
    from tests.reference_stacks import test_project

    stacks.STACK_DIR = hub_stack.PROJECT_DIR = test_project()
    mgmt = run_stack("mgmt")
    status = 0
    for stack in LOCKED_STACKS:
        current = fingerprint(mgmt if stack == "mgmt" else evaluate(stack, mgmt))
        if args.update:
            LOCK_DIR.mkdir(parents=True, exist_ok=True)
            lock_path(stack).write_text(json.dumps(current, indent=1, sort_keys=True) + "\n")
            print(f"{lock_path(stack).relative_to(ROOT)}: {len(current['resources'])} resources locked")
            continue
        diff = differences(read_lock(stack), current)
        print(f"{stack}: {'unchanged' if not diff else f'{len(diff)} differences'}")
        for line in diff:
            print(f"  {line}")
        status |= bool(diff)
    return status


if __name__ == "__main__":
    sys.exit(main())
