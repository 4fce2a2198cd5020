"""fleet: a multi-region fleet of EKS clusters from one stack's config."""

import gc

import pulumi

from components.config import clock, hub_stack
from components.config.stack_config import raw_fleet_config
from components.config.version_rules import version_warnings
from components.planning import cells, checks, identity, preflight
from components.resources.fleet import build_fleet

if __name__ == "__main__":
    # The evaluation builds a large, long-lived graph of SDK objects and frees little: the collector
    # spent a quarter of a 30-cluster evaluation walking it. Freeze what the imports made and collect
    # rarely. Only when Pulumi runs the program: the offline harness runs it many times in one
    # process (run_name "__pulumi_program__") with the collector off while it runs.
    gc.freeze()
    gc.set_threshold(100_000, 50, 100)

spec = checks.stack_fleet(raw_fleet_config(), pulumi.get_stack())
# The calendar warns, never refuses: a cluster EKS is about to upgrade must stay deployable, and its
# upgrade campaign (python -m plan <stack> --upgrade-to) runs this same program.
for warning in version_warnings(spec, clock.today()):
    pulumi.log.warn(warning)
for warning in identity.cross_account_warnings(spec):
    pulumi.log.warn(warning)
for warning in identity.foreign_grant_warnings(cells.environment_of(pulumi.get_stack()), spec, hub_stack.readable_stacks()):
    pulumi.log.warn(warning)
# Every flow's path, every hard limit and quota, before a single resource is registered.
checked = preflight.run(spec)
if not checked.passed:
    raise preflight.PreflightError(checked.errors)
for warning in checked.warnings:
    pulumi.log.warn(f"preflight: {warning}")

# A cell (<env>.<cluster>, fleet:cells) builds its own cluster only; checks.stack_fleet refused any other.
fleet = build_fleet(spec, cells.cell_of(pulumi.get_stack()))

pulumi.export("clusters", fleet.summaries())
pulumi.export("kubeconfig", fleet.kubeconfig)
pulumi.export("dns", fleet.dns_summary())
pulumi.export("edges", fleet.edge_summary())
if spec.dns is not None and spec.dns.arc:
    pulumi.export("arc", fleet.arc_summary())
pulumi.export("clusterset", fleet.clusterset_summary())
pulumi.export("argocd", fleet.gitops.summary() if fleet.gitops else {})
for name, value in {**fleet.hub_exports(), **fleet.cell_exports()}.items():
    pulumi.export(name, value)
