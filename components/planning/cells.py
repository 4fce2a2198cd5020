"""Cells (fleet:cells): an environment's fleet deployed as one Pulumi stack per cluster.

Why: Pulumi runs at most 4 x vCPU steps of a stack at once and holds a slot for each create
(docs/benchmarks.md), so one stack per environment takes about total create time / p; and every
cluster of it shares one failure domain. A cell is a stack that holds one cluster and everything
that is only that cluster's, so cells deploy side by side and fail alone.

The contract, as pure data (the program, ``python -m deploy.order`` and the deploy all read it here):

- The environment is declared once, in ``Pulumi.<env>.yaml``, with ``fleet:cells: true``.
- Each cluster is the stack ``<env>.<cluster>``. It runs with the environment's own file as its
  config (``pulumi up --stack <env>.<cluster> --config-file Pulumi.<env>.yaml``): the stack name
  says which cluster, so no generated file can drift from the reviewed one.
- Nothing is shared by every cell but read-only config. The clusterset's broker and its pre-shared key
  cross between cells as the broker cell's output, read through a StackReference and checked against
  this config (planning/cell_trust.py); the addresses peers admit are read from EC2 (resources/cell_reads.py).
- Two rounds: every cell in the first; the clusterset's cells again in the second, the *join*: a
  cell joins the clusterset from what the broker's cell exported in the first, and the broker's
  API admits what the members exported. No environment-wide stack is needed: the broker's cell
  generates the pre-shared key and holds the broker, as one cluster holds them in a single stack.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..config.errors import config_path
from ..config.model import FleetSpec
from . import interconnect

SEPARATOR = "."
"""Between the environment's stack name and the cluster's: ``prod.prod-us``. Pulumi stack names allow
letters, digits, ``-``, ``_`` and ``.`` (pulumi/pulumi sdk/go/common/tokens: ``stackNameRE``); a
cluster name is a DNS label and has no dot, so the split is unambiguous."""

STACK_NAME_RE = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")
"""Pulumi's stack name rule (pulumi/pulumi sdk/go/common/tokens/names.go, ``ValidateStackName``: 100 characters)."""

BROKER_OUTPUT = "clustersetBroker"
"""What the broker's cell exports for the members' join: the broker's server, each member's credential, the PSK."""


@dataclass(frozen=True)
class Cell:
    stack: str
    """``<env>.<cluster>``."""
    cluster: str
    file: str
    """The stack file it runs with, relative to the project: the environment's."""


def environment_of(stack: str) -> str:
    """The environment a stack belongs to: a cell's prefix, or the stack itself."""
    return stack.split(SEPARATOR, 1)[0]


def cell_of(stack: str) -> str | None:
    """The cluster a cell stack holds, or None for a stack that is not a cell."""
    parts = stack.split(SEPARATOR, 1)
    return parts[1] if len(parts) == 2 else None


def cell_stack(environment: str, cluster: str) -> str:
    return f"{environment}{SEPARATOR}{cluster}"


def cells_of(environment: str, spec: FleetSpec) -> tuple[Cell, ...]:
    """Every cell of a celled environment, by cluster name (never by list order)."""
    file = f"Pulumi.{environment}.yaml"
    return tuple(Cell(cell_stack(environment, c.name), c.name, file) for c in sorted(spec.clusters, key=lambda c: c.name))


def joining_cells(environment: str, spec: FleetSpec) -> tuple[Cell, ...]:
    """The cells deployed again in the join round: every clusterset member (the broker included, which
    admits the members' addresses once they exist)."""
    members = set(spec.clusterset_members()) if spec.clusterset is not None else set()
    return tuple(c for c in cells_of(environment, spec) if c.cluster in members)


def scope_problems(spec: FleetSpec, stack: str) -> list[str]:
    """Whether ``stack`` may run with this config: a cell only of a celled environment and one of its
    clusters; the environment's own stack never once it is celled (its state moves into the cells)."""
    environment, cluster = environment_of(stack), cell_of(stack)
    names = sorted(c.name for c in spec.clusters)
    if not spec.cells:
        if cluster is not None:
            return [
                f"stack {stack}: a cell stack (<environment>.<cluster>) runs only with a config that sets fleet:cells: true; "
                f"this config does not: deploy it as the stack {environment}"
            ]
        return []
    if not STACK_NAME_RE.match(stack):
        return [f"stack {stack}: not a Pulumi stack name (letters, digits, -, _ and ., at most 100)"]
    if cluster is None:
        return [
            f"{config_path(('cells',))}: this environment deploys as one stack per cluster "
            f"({', '.join(cell_stack(environment, n) for n in names)}), never as the stack {stack} itself: "
            "python -m deploy --stack " + environment + " runs them (docs/cells.md)"
        ]
    if cluster not in names:
        return [
            f"stack {stack}: Pulumi.{environment}.yaml has no cluster {cluster!r} in fleet:clusters "
            f"(its cells: {', '.join(cell_stack(environment, n) for n in names)}); a cell whose cluster left the file "
            "is destroyed, never run (docs/cells.md, 'Add or remove a cluster')"
        ]
    return []


def cell_config_problems(spec: FleetSpec) -> list[str]:
    """What cells do not split (yet), each with its config path. Refused, never half-built: each of these
    is one resource that serves every cluster of the environment, which no cell owns alone."""
    if not spec.cells:
        return []
    problems: list[str] = []
    where = config_path(("cells",))
    if spec.hub is not None and len(spec.clusters) > 1:
        problems.append(
            f"{where}: an environment with its own Argo CD hub ({spec.hub.name}, role: hub) is not split into cells: "
            "keep the hub in its own stack and let the cells join it with fleet:hub (as Pulumi.prod.yaml joins mgmt)"
        )
    if spec.members:
        problems.append(f"{where}: a hub stack (fleet:members) is not split into cells; its members may be")
    if interconnect.plan_interconnect(spec) is not None:
        problems.append(
            f"{where}: fleet:interconnect {spec.interconnect_mode.value} peers the clusters with an in-stack hub, which cells "
            "do not split: set fleet:interconnect.mode: none, or join a hub stack's interconnect with fleet:hub"
        )
    if spec.dns is not None and spec.dns.arc:
        problems.append(
            f"{config_path(('dns', 'arc'))}: one ARC cluster and safety rule serve every cluster of the environment: "
            "not split into cells (docs/cells.md)"
        )
    if spec.dns is not None:
        for i, record in enumerate(spec.dns.records):
            if record.front:
                problems.append(
                    f"{config_path(('dns', 'records', i, 'front'))}: a front is one alias for every cluster's sets: "
                    "not split into cells"
                )
    if spec.clusterset is not None and spec.clusterset.psk is not None:
        problems.append(
            f"{config_path(('submariner', 'psk'))}: cells share the key the broker's cell generates, which the members check "
            "(planning/cell_trust.py); leave it unset (and a cell cannot decrypt the environment's secrets under Pulumi "
            "Cloud's default secrets manager, whose keys are per stack)"
        )
    return problems
