"""Turns the raw ``fleet:*`` config into a ``FleetSpec``, or one error listing every problem.

Where each kind of rule lives (docs/layout.md, "Where a rule goes"): shapes, values and one-field
rules in the model (``model.py``, said by ``shape_errors.py``); cross-field rules of one stack in
``stack_rules.py`` (on partly parsed config, ``raw_rules.py``); the support calendar in
``version_rules.py``. Nothing here touches Pulumi resources; it runs before any is registered.
"""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import ValidationError

from .errors import ConfigError
from .model import FleetSpec
from .raw_rules import raw_fleet_problems
from .shape_errors import error_loc, pydantic_problems
from .stack_rules import fleet_problems

# Sections switched off by `enabled: false`: nothing else in them is read, so nothing else is checked.
SWITCHED_SECTIONS = ("argocd", "submariner")


def _without_disabled_sections(raw: Mapping[str, object]) -> dict[str, object]:
    kept = dict(raw)
    for key in SWITCHED_SECTIONS:
        section = kept.get(key)
        if isinstance(section, Mapping) and section.get("enabled") in (False, "false"):
            kept[key] = None
    return kept


def parse_model(raw: Mapping[str, object]) -> FleetSpec:
    """The ``fleet:*`` config (keys without the namespace) parsed into a FleetSpec, shapes only.

    Raises ConfigError with every shape problem, plus what spans clusters as far as the raw
    values allow: one round of fixes, not two.
    """
    raw = _without_disabled_sections(raw)
    try:
        return FleetSpec.model_validate(dict(raw))
    except ValidationError as exc:
        flagged = {error_loc(error)[0] for error in exc.errors()}
        raise ConfigError(pydantic_problems(exc) + raw_fleet_problems(raw, flagged)) from None


def parse_fleet(raw: Mapping[str, object]) -> FleetSpec:
    """The config validated against shapes and facts; the checks that need a plan are
    ``components.planning.checks.load_fleet``'s, which every entry point runs.

    Raises ConfigError with every problem found. Shape errors come first; fleet-wide rules run
    once every cluster is individually valid, since they compare values that must parse first.
    """
    spec = parse_model(raw)
    if problems := fleet_problems(spec):
        raise ConfigError(problems)
    return spec
