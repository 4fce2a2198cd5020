"""What ``pulumi state move`` leaves in the destination stack, as a function of the source's state: the
oracle the cells' migration (docs/cells.md, "Moving a running environment into cells") is tested by.

Modelled on pulumi/pulumi ``pkg/cmd/pulumi/state/state_move.go`` (v3.226.0; public since v3.124.0):

- Every listed resource moves with all its children, transitively; providers never move (listing one is
  refused), they are copied, each provider a moved resource uses (its default or explicit one).
- A moved resource whose parent stays behind is re-parented to the destination's root stack, and its
  URN's type loses the parent's prefix (since v3.224.0, pulumi/pulumi#21953).
- URNs, parents, provider references, ``dependencies`` and ``propertyDependencies`` are rewritten to the
  moved resources' new URNs; a dependency on a resource left behind is dropped (the command lists it).
- Inputs and outputs are copied as they are: a resource reference inside them keeps the source's URN.
- A URN the destination already holds is refused, before anything is written.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from offline.harness import Registration, Run

STACK_TYPE = "pulumi:pulumi:Stack"
PROVIDER_TYPE_PREFIX = "pulumi:providers:"


class MoveRefusedError(ValueError):
    """What ``pulumi state move`` refuses before it writes anything."""


def _parts(urn: str) -> tuple[str, str, str, str]:
    """(stack, project, qualified type, name) of ``urn:pulumi:<stack>::<project>::<type>::<name>``."""
    head, project, qualified, name = urn.split("::", 3)
    return head.removeprefix("urn:pulumi:"), project, qualified, name


def _urn(stack: str, project: str, qualified: str, name: str) -> str:
    return f"urn:pulumi:{stack}::{project}::{qualified}::{name}"


def _is_root(urn: str) -> bool:
    return not urn or _parts(urn)[2] == STACK_TYPE


def moved_sources(source: Run, urns: Iterable[str]) -> set[str]:
    """The source URNs a move of ``urns`` takes away: each with its children, transitively; never a provider."""
    children: dict[str, list[str]] = {}
    for urn, registration in source.registrations.items():
        children.setdefault(registration.parent, []).append(urn)
    moving: set[str] = set()
    pending = list(urns)
    while pending:
        urn = pending.pop()
        if urn in moving or source.registrations[urn].type.startswith(PROVIDER_TYPE_PREFIX):
            continue
        moving.add(urn)
        pending += children.get(urn, [])
    return moving


def renamed(source: Run, urns: Iterable[str], destination: str) -> dict[str, str]:
    """Each source URN a move of ``urns`` takes, and its URN in ``destination``."""
    moved = move(source, urns, destination)
    by_name = {(r.type, r.name): urn for urn, r in moved.registrations.items()}
    return {urn: by_name[(r.type, r.name)] for urn, r in source.registrations.items() if (r.type, r.name) in by_name}


def move(source: Run, urns: Iterable[str], destination: str, into: Run | None = None) -> Run:
    """The destination's state after moving ``urns`` (and their children) from ``source``'s state;
    ``into`` is what the destination already holds (a URN it has is refused)."""
    registrations = source.registrations
    listed = list(urns)
    missing = [u for u in listed if u not in registrations]
    if missing:
        raise MoveRefusedError(f"no resources found to move: {missing}")
    if providers := [u for u in listed if registrations[u].type.startswith(PROVIDER_TYPE_PREFIX)]:
        raise MoveRefusedError(f"cannot move providers: {providers}")
    moving = moved_sources(source, listed)
    providers_used = {
        reference.rsplit("::", 1)[0]
        for urn in moving
        for reference in [registrations[urn].provider, *registrations[urn].providers.values()]
        if reference
    }
    copied = {urn for urn in providers_used if urn in registrations}

    renamed: dict[str, str] = {}

    def new_urn(urn: str) -> str:
        if urn in renamed:
            return renamed[urn]
        _, project, qualified, name = _parts(urn)
        parent = registrations[urn].parent
        if urn in copied or _is_root(parent):
            result = _urn(destination, project, qualified, name)
        elif parent in moving:
            parent_qualified = _parts(new_urn(parent))[2].removeprefix(f"{STACK_TYPE}$")
            result = _urn(destination, project, f"{parent_qualified}${registrations[urn].type}", name)
        else:
            result = _urn(destination, project, registrations[urn].type, name)  # re-parented to the root
        renamed[urn] = result
        return result

    root = _urn(
        destination, _parts(next(iter(registrations)))[1], STACK_TYPE, f"{_parts(next(iter(registrations)))[1]}-{destination}"
    )
    existing = dict(into.registrations) if into is not None else {}
    moved: dict[str, Registration] = {}
    for urn, registration in registrations.items():
        if urn not in moving and urn not in copied:
            continue
        target = new_urn(urn)
        if target in existing and urn not in copied:
            raise MoveRefusedError(f"resource {target} already exists in destination stack")
        if target in existing:
            continue  # the destination's own provider of the same URN (same inputs) is used
        parent = registration.parent
        moved[target] = dataclasses.replace(
            registration,
            urn=target,
            parent=new_urn(parent) if parent in moving else root,
            provider=_rewrite_reference(registration.provider, new_urn, moving | copied),
            providers={k: _rewrite_reference(v, new_urn, moving | copied) for k, v in registration.providers.items()},
            dependencies=[new_urn(d) for d in registration.dependencies if d in moving],
            property_dependencies={
                k: [new_urn(d) for d in v if d in moving] for k, v in registration.property_dependencies.items()
            },
            aliases=[],
        )
    return Run({**existing, **moved}, {}, set(), [])


def _rewrite_reference(reference: str, new_urn: object, known: set[str]) -> str:
    if not reference:
        return reference
    urn, _, identifier = reference.rpartition("::")
    return f"{new_urn(urn)}::{identifier}" if urn in known and callable(new_urn) else reference


def top_level(run: Run, shared_types: Iterable[str]) -> list[str]:
    """What to list for a cell: its top-level resources, and the children of the components every cell
    has one of (``shared_types``), which stay behind while their children move. Providers are copied."""
    shared = tuple(shared_types)
    listed = []
    for urn, registration in run.registrations.items():
        if registration.type.startswith(PROVIDER_TYPE_PREFIX):
            continue
        parent = run.registrations.get(registration.parent)
        if (_is_root(registration.parent) and registration.type not in shared) or (parent is not None and parent.type in shared):
            listed.append(urn)
    return listed
