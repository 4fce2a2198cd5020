"""Settings a first real deploy depends on: flow logs, rule descriptions, upgrade policy, and their config errors."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from components.resources.postrender_submariner import drop_kind
from components.resources.submariner import POSTRENDER
from offline import charts
from offline.harness import ROOT, Run, run_stack
from tests.config_cases import problems_after
from tests.reference import PINNED

CLUSTERS = ("mgmt", "prod-us", "prod-eu")


# ---------------------------------------------------------------- VPC flow logs


@pytest.mark.parametrize("cluster", CLUSTERS)
def test_every_vpc_logs_its_flows_encrypted_with_a_retention(fleet: Run, cluster: str) -> None:
    vpc = fleet.named(f"{cluster}-network-vpc")
    (flow_log,) = [r for r in fleet.of_type("aws:ec2/flowLog:FlowLog") if r.inputs["vpcId"] == vpc.id]
    assert flow_log.inputs["trafficType"] == "ALL"
    assert flow_log.inputs["logDestinationType"] == "cloud-watch-logs"
    group = fleet.named(f"{cluster}-network-flow-logs-group")
    assert group.type == "aws:cloudwatch/logGroup:LogGroup"
    assert flow_log.inputs["logDestination"] == group.outputs["arn"]
    assert group.inputs["retentionInDays"] == 365
    key = fleet.named(f"{cluster}-network-flow-logs-key")
    assert group.inputs["kmsKeyId"] == key.outputs["arn"]
    assert key.inputs["enableKeyRotation"] is True
    # CloudWatch Logs may use the key only for this account's log groups in this region.
    statements = {s["Sid"]: s for s in json.loads(key.inputs["policy"])["Statement"]}
    logs = statements["CloudWatchLogsEncrypts"]
    region = {"mgmt": "us-east-1", "prod-us": "us-east-1", "prod-eu": "eu-west-1"}[cluster]
    assert logs["Principal"] == {"Service": f"logs.{region}.amazonaws.com"}
    assert logs["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"].startswith(f"arn:aws:logs:{region}:")
    # The delivery role writes to this log group only, and only this account's flow logs may assume it.
    role = fleet.named(f"{cluster}-network-flow-logs-role")
    assert flow_log.inputs["iamRoleArn"] == role.outputs["arn"]
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}
    delivery = json.loads(fleet.named(f"{cluster}-network-flow-logs-delivery").inputs["policy"])["Statement"][0]
    assert delivery["Resource"] == [group.outputs["arn"], f"{group.outputs['arn']}:*"]


def test_flow_logs_to_an_existing_bucket() -> None:
    bucket = "arn:aws:s3:::org-flow-logs/fleet"
    run = run_stack("fleet", mutate=lambda c: c.update({"fleet:flowLogs": {"destination": "s3", "bucketArn": bucket}}))
    logs = run.of_type("aws:ec2/flowLog:FlowLog")
    assert len(logs) == 3
    assert all(r.inputs["logDestinationType"] == "s3" and r.inputs["logDestination"] == bucket for r in logs)
    assert not run.of_type("aws:cloudwatch/logGroup:LogGroup")


@pytest.mark.parametrize(
    ("flow_logs", "message"),
    [
        ({"destination": "s3"}, "destination s3 needs bucketArn"),
        ({"destination": "s3", "bucketArn": "my-bucket"}, "is not an S3 bucket ARN"),
        ({"bucketArn": "arn:aws:s3:::bkt"}, "bucketArn is only for destination s3"),
        ({"retentionDays": 42}, "fleet:flowLogs.retentionDays"),
        ({"destination": "s3", "bucketArn": "arn:aws:s3:::bkt", "retentionDays": 30}, "retentionDays is for cloudWatch"),
    ],
)
def test_flow_log_config_errors(flow_logs: dict[str, Any], message: str) -> None:
    problems = problems_after(lambda raw: raw.update(flowLogs=flow_logs))
    assert any(message in p for p in problems), problems


# ---------------------------------------------------------------- security group rules say why


def test_every_security_group_rule_has_a_description(fleet: Run) -> None:
    rules = [
        *fleet.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"),
        *fleet.of_type("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"),
    ]
    assert len(rules) > 10
    missing = [r.name for r in rules if len(str(r.inputs.get("description", ""))) < 10]
    assert missing == []


# ---------------------------------------------------------------- EKS upgrade policy


def test_upgrade_policy_is_standard_unless_a_cluster_asks_for_extended(fleet: Run) -> None:
    assert {c.inputs["upgradePolicy"]["supportType"] for c in fleet.of_type("eks:index:Cluster")} == {"STANDARD"}
    run = run_stack("fleet", mutate=lambda c: c["fleet:clusters"][0].update(supportType="EXTENDED"))
    assert run.named("mgmt-eks").inputs["upgradePolicy"] == {"supportType": "EXTENDED"}
    assert run.named("prod-us-eks").inputs["upgradePolicy"] == {"supportType": "STANDARD"}


def test_support_type_must_be_one_eks_offers() -> None:
    problems = problems_after(lambda raw: raw.update(supportType="FOREVER"))
    assert problems[0].startswith("fleet:supportType: ")


# ---------------------------------------------------------------- health checks follow listeners


def test_a_health_check_port_other_than_the_listener_is_refused() -> None:
    problems = problems_after(lambda raw: raw["dns"]["healthCheck"].update(port=8443))
    assert problems == [
        f"fleet:dns.healthCheck.port: 8443, but the edge of fleet:clusters[{i}] ({name}) listens on 443 "
        f"(fleet:clusters[{i}].edge.ingress.port); health checks must probe the listener, so leave port unset to follow each edge"
        for i, name in ((1, "prod-us"), (2, "prod-eu"))
    ]


def test_a_record_may_not_take_an_edges_own_name() -> None:
    problems = problems_after(
        lambda raw: raw["dns"]["records"].append(
            {"name": "prod-us.edge.example.com", "routing": "latency", "clusters": ["prod-us"]}
        )
    )
    assert problems == [
        "fleet:dns.records[4].name: 'prod-us.edge.example.com' is the per-edge name of prod-us (fleet:dns.edgeSubdomain); "
        "choose another name or edgeSubdomain"
    ]


# ---------------------------------------------------------------- Submariner's broker binding and teardown


def test_the_broker_charts_own_binding_names_an_account_nobody_runs_as(fleet: Run) -> None:
    values = fleet.named("submariner-broker-chart").inputs["values"]
    name = values["serviceAccounts"]["client"]["name"]
    assert name not in ("", "default")
    assert values["serviceAccounts"]["client"]["create"] is False
    accounts = {r.inputs["metadata"]["name"] for r in fleet.of_type("kubernetes:core/v1:ServiceAccount")}
    assert name not in accounts
    # The chart's helper: with create false, the binding names serviceAccounts.client.name, else "default".
    helper = (charts.chart_dir(*PINNED["submariner/submariner-k8s-broker"]) / "templates/_helpers.tpl").read_text()
    assert '{{ default "default" .Values.serviceAccounts.client.name }}' in helper


def test_the_post_renderer_drops_only_the_submariner_object() -> None:
    template = (charts.chart_dir(*PINNED["submariner/submariner-operator"]) / "templates/submariner.yaml").read_text()
    rendered = (
        "---\n# Source: submariner-operator/templates/svc-acct.yaml\napiVersion: v1\nkind: ServiceAccount\n"
        "metadata:\n  name: submariner-operator\n"
        f"---\n# Source: submariner-operator/templates/submariner.yaml\n{template}"
        "---\n# Source: submariner-operator/templates/operator-deployment.yaml\napiVersion: apps/v1\nkind: Deployment\n"
        "metadata:\n  name: submariner-operator\nspec:\n  template:\n    spec:\n      containers:\n        - name: op\n"
        "          env:\n            - name: KIND\n              value: Submariner\n"
    )
    kept = drop_kind(rendered)
    assert "kind: Submariner\n" not in kept
    assert "kind: ServiceAccount" in kept
    assert "kind: Deployment" in kept
    assert "value: Submariner" in kept


def test_helm_can_run_the_post_renderer() -> None:
    script = ROOT / "components" / "resources" / "postrender_submariner.py"
    assert script.stat().st_mode & 0o111, "Helm executes the post-renderer: it must be executable"
    tracked = subprocess.run(
        ["git", "ls-files", "-s", str(script.relative_to(ROOT))], cwd=ROOT, capture_output=True, text=True, check=False
    ).stdout
    if tracked:
        assert tracked.startswith("100755"), "git must keep the executable bit"
    manifests = "---\nkind: Submariner\nmetadata: {}\n---\nkind: ConfigMap\nmetadata: {}\n"
    result = subprocess.run([sys.executable, str(script)], input=manifests, capture_output=True, text=True, check=True)
    assert "ConfigMap" in result.stdout
    assert "Submariner" not in result.stdout
    # The release names it relative to the project directory, where `pulumi up` runs.
    assert (ROOT / POSTRENDER).resolve() == script
