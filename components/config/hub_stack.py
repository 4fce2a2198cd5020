"""The hub stack a joining stack (``fleet:hub``) registers into, read from its stack file.

A stack that joins another stack's hub joins that hub's interconnect too: its clusters are
peered with the hub's VPC like the hub's own members. Everything that must be known before a
resource is registered comes from the hub's stack file in this project (its interconnect mode,
its hub's region, range and zones, to check ranges and to create one route per hub route table);
what only exists after the hub's deploy (ids) comes from its stack outputs.
"""

from __future__ import annotations

from pathlib import Path

from .errors import ConfigError, config_path
from .model import FleetSpec
from .stack_files import StackFileError, is_cell_file, load_yaml, read_stack_file
from .validation import parse_fleet

PROJECT_DIR = Path(__file__).resolve().parents[2]


def stack_file_of(reference: str, project_dir: Path | None = None) -> Path | None:
    """Pulumi.<stack>.yaml of ``organization/project/stack`` when that stack is in this project."""
    project_dir = project_dir or PROJECT_DIR
    parts = reference.split("/")
    project = (load_yaml(project_dir / "Pulumi.yaml") or {}).get("name")
    if len(parts) != 3 or parts[1] != project:
        return None
    path = project_dir / f"Pulumi.{parts[2]}.yaml"
    return path if path.is_file() else None


def read_hub_spec(spec: FleetSpec, project_dir: Path | None = None) -> FleetSpec | None:
    """The validated config of the stack ``fleet:hub`` names, or None when its file is not in this project."""
    if spec.hub_stack is None:
        return None
    path = stack_file_of(spec.hub_stack.stack, project_dir)
    if path is None:
        return None
    return _read_spec(path, f"{config_path(('hub', 'stack'))} ({path.name})")


def joining_stacks(hub: str, project_dir: Path | None = None) -> tuple[dict[str, FleetSpec], list[str]]:
    """Per stack name, the validated config of each stack of this project whose ``fleet:hub`` is the
    stack ``hub``; and why any other stack file could not be read.

    Their clusters are peered with the hub's VPC and routed from its route tables, so the hub's
    per-VPC quotas count them too, whichever stack is being deployed. A stack file that does not
    read cannot be deployed either: it is named (the preflight warns), never fatal to this stack.
    """
    project_dir = project_dir or PROJECT_DIR
    joiners: dict[str, FleetSpec] = {}
    unread: list[str] = []
    for path in sorted(project_dir.glob("Pulumi.*.yaml")):
        stack = path.name.removeprefix("Pulumi.").removesuffix(".yaml")
        if stack == hub or is_cell_file(path):
            continue
        try:
            joined = read_stack_file(path).config.get("fleet:hub")
            reference = joined.get("stack") if isinstance(joined, dict) else None
            if isinstance(reference, str) and stack_file_of(reference, project_dir) == project_dir / f"Pulumi.{hub}.yaml":
                joiners[stack] = _read_spec(path, path.name)
        except (StackFileError, ConfigError) as exc:
            unread.append(str(exc).splitlines()[0])
    return joiners, unread


def project_stacks(project_dir: Path | None = None) -> dict[str, FleetSpec]:
    """Every stack of this project by name, validated (ConfigError naming the file when one does not read)."""
    stacks, problems = _read_all(project_dir)
    if problems:
        raise ConfigError(problems)
    return stacks


def readable_stacks(project_dir: Path | None = None) -> dict[str, FleetSpec]:
    """Every stack of this project whose file reads (the others are named by their own plans)."""
    return _read_all(project_dir)[0]


def read_spec(path: Path) -> FleetSpec:
    """One stack file's validated config (ConfigError naming the file)."""
    return _read_spec(path, path.name)


def _read_all(project_dir: Path | None) -> tuple[dict[str, FleetSpec], list[str]]:
    project_dir = project_dir or PROJECT_DIR
    problems: list[str] = []
    stacks: dict[str, FleetSpec] = {}
    for path in sorted(project_dir.glob("Pulumi.*.yaml")):
        if is_cell_file(path):
            continue
        try:
            stacks[path.name.removeprefix("Pulumi.").removesuffix(".yaml")] = _read_spec(path, path.name)
        except ConfigError as exc:
            problems += exc.problems
    return stacks, problems


def _read_spec(path: Path, where: str) -> FleetSpec:
    try:
        config = read_stack_file(path).config
    except StackFileError as exc:
        raise ConfigError([f"{where}: {exc}"]) from None
    project = load_yaml(path.parent / "Pulumi.yaml") or {}
    # Project config keys without a namespace belong to the project (fleet:).
    defaults = {
        key.removeprefix("fleet:"): value["default"]
        for key, value in (project.get("config") or {}).items()
        if (":" not in key or key.startswith("fleet:")) and isinstance(value, dict) and "default" in value
    }
    raw = {**defaults, **{key.removeprefix("fleet:"): value for key, value in config.items() if key.startswith("fleet:")}}
    try:
        return parse_fleet(raw)
    except ConfigError as exc:
        raise ConfigError([f"{where}: {problem}" for problem in exc.problems]) from None


def with_hub_stack(spec: FleetSpec, project_dir: Path | None = None, stack: str | None = None) -> FleetSpec:
    """``spec`` of the stack named ``stack``, knowing the config of the hub stack it joins and of
    the other stacks joining the same hub (those in this project)."""
    hub = read_hub_spec(spec, project_dir)
    if hub is not None and spec.hub_stack is not None:
        hub_name = spec.hub_stack.stack.rsplit("/", 1)[-1]
        joiners, unread = joining_stacks(hub_name, project_dir)
        others = {name: s for name, s in joiners.items() if name != stack}
        return spec.with_joined_hub(hub.with_joining(others, unread))
    if stack is None:
        return spec
    return spec.with_joining(*joining_stacks(stack, project_dir))
