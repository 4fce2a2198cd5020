"""Route 53 ARC: a recovery cluster, a control panel, one routing control per serving cluster and
a safety rule that keeps at least fleet:dns.minServingRegions of them on (components/aws/arc.py).

ARC creates routing controls Off. While every control is Off every record is unhealthy, and
Route 53 fails open (answers as if all were healthy, so it fails over nothing), which is why the
deploy that creates controls turns them On right after (``python -m deploy --up``:
deploy/failover.py settle_after_up) and writes them into the stack file for ``deploy failover``.
From then on a cluster whose control is Off is out of DNS, whatever its edge's health.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from ..aws import arc


@dataclass(frozen=True)
class RecoveryControlsArgs:
    clusters: Sequence[str]
    """The serving clusters, one routing control each."""
    min_on: int
    """The safety rule's threshold: at least this many controls stay On."""


class RecoveryControls(pulumi.ComponentResource):
    cluster: aws.route53recoverycontrol.Cluster
    routing_controls: dict[str, pulumi.Output[str]]
    """Per cluster, its routing control's ARN."""

    def __init__(self, name: str, args: RecoveryControlsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("fleet:index:RecoveryControls", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        stack = pulumi.get_stack()
        self.cluster = aws.route53recoverycontrol.Cluster(
            f"{name}-cluster", aws.route53recoverycontrol.ClusterArgs(name=f"fleet-{stack}"), child
        )
        panel = aws.route53recoverycontrol.ControlPanel(
            f"{name}-panel",
            aws.route53recoverycontrol.ControlPanelArgs(cluster_arn=self.cluster.arn, name=f"fleet-{stack}"),
            child,
        )
        controls = {
            cluster: aws.route53recoverycontrol.RoutingControl(
                f"{name}-{cluster}",
                aws.route53recoverycontrol.RoutingControlArgs(
                    cluster_arn=self.cluster.arn, control_panel_arn=panel.arn, name=cluster
                ),
                child,
            )
            for cluster in sorted(args.clusters)
        }
        rule = aws.route53recoverycontrol.SafetyRule(
            f"{name}-at-least-{args.min_on}-on",
            aws.route53recoverycontrol.SafetyRuleArgs(
                control_panel_arn=panel.arn,
                name=f"at-least-{args.min_on}-on",
                asserted_controls=[control.arn for control in controls.values()],
                rule_config=aws.route53recoverycontrol.SafetyRuleRuleConfigArgs(
                    type="ATLEAST", threshold=args.min_on, inverted=False
                ),
                wait_period_ms=arc.ASSERTION_WAIT_MS,
            ),
            child,
        )
        self.panel_arn = panel.arn
        self.safety_rule_arns = [rule.arn]
        self.routing_controls = {cluster: control.arn for cluster, control in controls.items()}
        self.register_outputs({"clusterArn": self.cluster.arn, "routingControls": self.routing_controls})
