"""``python -m deploy status`` against moto's AWS emulator (moto[server], started on a loopback port,
boto3 pointed at it with AWS_ENDPOINT_URL), and botocore's Stubber, which checks every request and
response against botocore's service models, for what moto does not emulate (EKS insights and add-ons,
ARC's data plane)."""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from components.config.model import FleetSpec
from components.planning.checks import load_fleet
from deploy import status, status_kube
from deploy.exit_codes import ExitCode
from offline.harness import Run, run_stack
from offline.stacks import stack_config

TODAY = dt.date(2026, 12, 7)
ACCOUNT = "123456789012"


@pytest.fixture(scope="module")
def emulator() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    saved = {k: os.environ.get(k) for k in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    os.environ.update(AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}", AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture(autouse=True)
def fresh(emulator: str) -> None:
    import urllib.request

    urllib.request.urlopen(urllib.request.Request(f"{emulator}/moto-api/reset", method="POST")).read()


def create_cluster(run: Run, cluster: str, region: str, version: str = "1.35", stack: str = "prod") -> None:
    """The cluster and its node groups as the program registers them: names from their prefixes, labels
    and sizes from the registrations (the oracle for what status reads is the program's own output)."""
    eks = boto3.client("eks", region_name=region)
    eks.create_cluster(
        name=cluster, version=version, roleArn=f"arn:aws:iam::{ACCOUNT}:role/c", resourcesVpcConfig={"subnetIds": ["subnet-1"]}
    )
    for group in run.of_type("eks:index:ManagedNodeGroup"):
        if group.name.startswith(f"{cluster}-"):
            eks.create_nodegroup(
                clusterName=cluster,
                nodegroupName=f"{group.inputs['nodeGroupNamePrefix']}0a1b2c3",
                nodeRole=f"arn:aws:iam::{ACCOUNT}:role/n",
                subnets=["subnet-1"],
                scalingConfig=group.inputs["scalingConfig"],
                labels=group.inputs["labels"],
                version=version,
            )
    route53 = boto3.client("route53", region_name="us-east-1")
    for check in run.of_type("aws:route53/healthCheck:HealthCheck"):
        if check.inputs["tags"].get("fleet-cluster") != cluster or check.inputs["type"] != "HTTPS":
            continue
        created = route53.create_health_check(
            CallerReference=check.name,
            HealthCheckConfig={
                "Type": check.inputs["type"],
                "FullyQualifiedDomainName": check.inputs["fqdn"],
                "Port": check.inputs["port"],
                "ResourcePath": check.inputs["resourcePath"],
            },
        )
        # The provider's default tags name the stack (components/resources/providers.py).
        tags = [{"Key": k, "Value": v} for k, v in {**check.inputs["tags"], "fleet-stack": stack}.items()]
        route53.change_tags_for_resource(ResourceType="healthcheck", ResourceId=created["HealthCheck"]["Id"], AddTags=tags)


def prod_raw() -> dict[str, Any]:
    """The shipped prod's fleet config (two clusters), as deploy status reads it."""
    return {k.removeprefix("fleet:"): v for k, v in stack_config("prod").items()}


@pytest.fixture(scope="module")
def prod_run() -> Run:
    return run_stack("prod")


def test_one_of_prods_clusters_created_is_reported_live_and_the_other_missing(
    prod_run: Run, capsys: pytest.CaptureFixture[str]
) -> None:
    # The acceptance case: prod-us exists, prod-eu does not.
    from deploy.__main__ import main

    create_cluster(prod_run, "prod-us", "us-east-1")
    code = main(["status", "--stack", "prod", "--json", "--today", TODAY.isoformat()])
    out = capsys.readouterr()
    assert code == ExitCode.MISSING
    assert "Traceback" not in out.out + out.err
    rows = {row["cluster"]: row for row in json.loads(out.out)["clusters"]}
    assert (rows["prod-us"]["version"], rows["prod-us"]["status"], rows["prod-us"]["state"]) == ("1.35", "ACTIVE", "ok")
    assert rows["prod-us"]["support_ends"] == "2027-03-27"
    assert {g["group"] for g in rows["prod-us"]["node_groups"]} == {"general", "arm", "gpu", "submariner-gateway"}
    general = [g for g in rows["prod-us"]["node_groups"] if g["group"] == "general"]
    assert [(g["desired"], g["min"], g["max"], g["status"]) for g in general] == [(1, 1, 7, "ACTIVE")] * 3
    # moto emulates neither insights nor add-ons: they are unknown, not a crash and not a failure.
    assert rows["prod-us"]["insights"] == "unknown"
    assert set(rows["prod-us"]["addons"].values()) == {"unknown"}
    assert rows["prod-eu"]["state"] == "missing"
    assert rows["prod-eu"]["problems"] == ["prod-eu is in the stack file but not in EKS (eu-west-1)"]
    main(["status", "--stack", "prod", "--today", TODAY.isoformat()])
    text = capsys.readouterr().out
    assert "prod-eu (eu-west-1): MISSING" in text
    assert "prod-us (us-east-1): OK: EKS 1.35" in text


def test_a_cluster_past_its_support_or_with_a_group_gone_is_degraded(prod_run: Run) -> None:
    spec = load_fleet(prod_raw())
    create_cluster(prod_run, "prod-us", "us-east-1", version="1.34")
    create_cluster(prod_run, "prod-eu", "eu-west-1")
    eks = boto3.client("eks", region_name="eu-west-1")
    eks.delete_nodegroup(clusterName="prod-eu", nodegroupName="prod-eu-arm-0a1b2c3")
    rows, _ = status.collect(spec, status.boto3_clients, TODAY)
    us, eu = rows
    assert us.state == "degraded"
    assert "support for 1.34 (STANDARD) ended 2026-12-02" in us.problems
    assert eu.state == "degraded"
    assert eu.problems == ["node group arm of the stack file is not in EKS"]
    assert status.exit_code(rows) == ExitCode.DEGRADED


def test_a_region_whose_eks_api_does_not_answer_is_unreachable(prod_run: Run) -> None:
    create_cluster(prod_run, "prod-us", "us-east-1")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}"

    def clients(service: str, region: str) -> Any:
        from botocore.config import Config

        if region == "eu-west-1":
            config = Config(connect_timeout=1, read_timeout=1, retries={"max_attempts": 1})
            return boto3.client(service, region_name=region, endpoint_url=dead, config=config)
        return status.boto3_clients(service, region)

    rows, _ = status.collect(load_fleet(prod_raw()), clients, TODAY)
    assert [r.state for r in rows] == ["ok", "unreachable"]
    assert rows[1].problems[0].startswith("EKS in eu-west-1 did not answer")
    assert status.exit_code(rows) == ExitCode.UNREACHABLE


def test_the_edge_health_check_is_found_by_its_tags_and_read(prod_run: Run) -> None:
    create_cluster(prod_run, "prod-us", "us-east-1")
    create_cluster(prod_run, "prod-eu", "eu-west-1")
    spec = load_fleet(prod_raw())
    checks = status.edge_checks(spec, status.boto3_clients, "prod")
    assert set(checks.ids) == {"prod-us", "prod-eu"}
    # Another stack's checks of the same cluster names are not this stack's.
    assert status.edge_checks(spec, status.boto3_clients, "staging").ids == {}
    # One listing page, one tag batch and one GetMetricData: per stack, not per cluster.
    assert checks.calls == 3
    # The emulator keeps no HealthCheckStatus datapoints: the checkers' last observations, said so.
    rows, _ = status.collect(spec, status.boto3_clients, TODAY)
    assert [r.edge_health for r in rows] == ["healthy", "healthy"]
    assert all(any("last observations" in n for n in r.notes) for r in rows)


def test_route_53s_own_verdict_is_the_cloudwatch_metric(prod_run: Run) -> None:
    # AWS/Route53 HealthCheckStatus is the check's status after its failure threshold and the 18% rule
    # (Route 53 Developer Guide, "Monitoring health check status ... with CloudWatch").
    import datetime

    now = datetime.datetime(2026, 12, 7, 12, 0, tzinfo=datetime.UTC)
    cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")
    stub = Stubber(cloudwatch)

    def query(index: int, check: str) -> dict[str, Any]:
        metric = {
            "Namespace": "AWS/Route53",
            "MetricName": "HealthCheckStatus",
            "Dimensions": [{"Name": "HealthCheckId", "Value": check}],
        }
        return {"Id": f"c{index}", "MetricStat": {"Metric": metric, "Period": 60, "Stat": "Minimum"}}

    earlier = now - datetime.timedelta(minutes=1)
    stub.add_response(
        "get_metric_data",
        {
            "MetricDataResults": [
                # Newest first: prod-eu failed a minute ago after being healthy; prod-us recovered.
                {
                    "Id": "c0",
                    "Label": "HealthCheckStatus",
                    "Timestamps": [now, earlier],
                    "Values": [0.0, 1.0],
                    "StatusCode": "Complete",
                },
                {
                    "Id": "c1",
                    "Label": "HealthCheckStatus",
                    "Timestamps": [now, earlier],
                    "Values": [1.0, 0.0],
                    "StatusCode": "Complete",
                },
            ]
        },
        {
            "MetricDataQueries": [query(0, "check-eu"), query(1, "check-us")],
            "StartTime": now - datetime.timedelta(minutes=5),
            "EndTime": now,
            "ScanBy": "TimestampDescending",
        },
    )
    stub.activate()
    verdicts, calls, refused = status._verdicts(cloudwatch, {"prod-eu": "check-eu", "prod-us": "check-us"}, now)
    assert (verdicts, calls, refused) == ({"prod-eu": "unhealthy", "prod-us": "healthy"}, 1, None)
    stub.add_client_error("get_metric_data", "AccessDenied", http_status_code=403)
    assert status._verdicts(cloudwatch, {"prod-eu": "check-eu"}, now) == ({}, 1, "cloudwatch:GetMetricData: AccessDenied")
    checks = status.EdgeChecks(ids={"prod-eu": "check-eu"}, verdicts=verdicts, listed=True)
    row = status.ClusterRow("prod-eu", "eu-west-1", "ok")
    status._check_health(checks, "prod-eu", row)
    assert row.problems == ["its edge's Route 53 health check is unhealthy"]


def test_a_zone_in_a_dns_account_is_read_through_its_preview_role() -> None:
    raw = prod_raw()
    raw["dns"]["account"] = {
        "id": "210987654321",
        "roleArn": "arn:aws:iam::210987654321:role/fleet-dns",
        "previewRoleArn": "arn:aws:iam::210987654321:role/fleet-dns-read",
    }
    sts = boto3.client("sts", region_name="us-east-1")
    stub = Stubber(sts)
    stub.add_response(
        "assume_role",
        {
            "Credentials": {
                "AccessKeyId": "ASIAEXAMPLE000000000",
                "SecretAccessKey": "s" * 40,
                "SessionToken": "t",
                "Expiration": dt.datetime(2026, 12, 7, 13, 0),
            }
        },
        {"RoleArn": "arn:aws:iam::210987654321:role/fleet-dns-read", "RoleSessionName": "fleet-status"},
    )
    stub.activate()
    route53, cloudwatch = status._dns_clients(load_fleet(raw), lambda service, region: sts)
    stub.assert_no_pending_responses()
    assert route53.meta.service_model.service_name == "route53"
    assert cloudwatch.meta.region_name == "us-east-1"


def test_a_denied_or_failing_read_is_unknown_not_unreachable_nor_degraded(prod_run: Run) -> None:
    create_cluster(prod_run, "prod-us", "us-east-1")
    spec = load_fleet(prod_raw())

    def denying(operation: str) -> Any:
        def clients(service: str, region: str) -> Any:
            client = status.boto3_clients(service, region)
            if service != "eks":
                return client

            def deny(**kwargs: Any) -> Any:
                from botocore.exceptions import ClientError

                raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, operation)

            setattr(client, operation, deny)
            return client

        return clients

    checks = status.edge_checks(spec, status.boto3_clients)
    described = status.cluster_row(spec, spec.clusters[0], denying("describe_cluster"), status.boto3_clients, checks, TODAY)
    assert described.state == "unknown"
    assert described.notes == ["eks:DescribeCluster: unknown (AccessDeniedException)"]
    assert status.exit_code([described]) == ExitCode.DEGRADED
    listed = status.cluster_row(spec, spec.clusters[0], denying("list_nodegroups"), status.boto3_clients, checks, TODAY)
    assert listed.state == "ok"
    assert "eks:ListNodegroups: unknown (AccessDeniedException)" in listed.notes

    def broken(service: str, region: str) -> Any:
        if region == "eu-west-1":
            raise RuntimeError("surprise")
        return status.boto3_clients(service, region)

    rows, _ = status.collect(spec, broken, TODAY)
    assert [r.state for r in rows] == ["ok", "unknown"]
    assert rows[1].notes == ["reading it failed: RuntimeError: surprise"]


def test_a_cluster_whose_node_groups_are_all_gone_is_degraded(prod_run: Run) -> None:
    create_cluster(prod_run, "prod-us", "us-east-1")
    eks = boto3.client("eks", region_name="us-east-1")
    for name in eks.list_nodegroups(clusterName="prod-us")["nodegroups"]:
        eks.delete_nodegroup(clusterName="prod-us", nodegroupName=name)
    spec = load_fleet(prod_raw())
    row = status.cluster_row(
        spec, spec.clusters[0], status.boto3_clients, status.boto3_clients, status.edge_checks(spec, status.boto3_clients), TODAY
    )
    assert row.state == "degraded"
    assert [p for p in row.problems if "not in EKS" in p] == [
        f"node group {g} of the stack file is not in EKS" for g in ("arm", "general", "gpu")
    ]


def stubbed_eks(region: str, insights: list[dict[str, Any]], addon_versions: dict[str, str]) -> Any:
    """An EKS client whose insight and add-on answers are shapes from the API reference, which the
    Stubber checks against botocore's model; everything else goes to the emulator."""
    real = status.boto3_clients("eks", region)
    client = boto3.client("eks", region_name=region)
    stub = Stubber(client)
    stub.add_response(
        "list_insights", {"insights": insights}, {"clusterName": "prod-us", "filter": {"categories": ["UPGRADE_READINESS"]}}
    )
    for addon in status.MANAGED_ADDONS:
        if addon in addon_versions:
            stub.add_response(
                "describe_addon",
                {
                    "addon": {
                        "addonName": addon,
                        "clusterName": "prod-us",
                        "status": "ACTIVE",
                        "addonVersion": addon_versions[addon],
                    }
                },
                {"clusterName": "prod-us", "addonName": addon},
            )
        else:
            stub.add_client_error("describe_addon", "ResourceNotFoundException", http_status_code=404)
    stub.activate()

    class Mixed:
        def __getattr__(self, name: str) -> Any:
            return getattr(client if name in ("list_insights", "describe_addon") else real, name)

    return Mixed()


def test_insights_and_addons_in_the_api_references_shapes(prod_run: Run) -> None:
    create_cluster(prod_run, "prod-us", "us-east-1")
    insight = {
        "id": "i-1",
        "name": "Kubelet version skew",
        "category": "UPGRADE_READINESS",
        "kubernetesVersion": "1.36",
        "lastRefreshTime": dt.datetime(2026, 12, 7),
        "lastTransitionTime": dt.datetime(2026, 12, 7),
        "description": "Checks for kubelet versions of worker nodes",
        "insightStatus": {"status": "ERROR", "reason": "Node kubelet versions do not match"},
    }
    passing = {**insight, "id": "i-2", "insightStatus": {"status": "PASSING", "reason": ""}}
    eks = stubbed_eks("us-east-1", [insight, passing], {"coredns": "v1.12.4-eksbuild.1"})

    def clients(service: str, region: str) -> Any:
        return eks if service == "eks" and region == "us-east-1" else status.boto3_clients(service, region)

    spec = load_fleet(prod_raw())
    row = status.cluster_row(spec, spec.clusters[0], clients, status.boto3_clients, status.EdgeChecks(), TODAY)
    assert row.insights == {"ERROR": 1, "PASSING": 1}
    assert row.addons["coredns"] == "v1.12.4-eksbuild.1"
    assert row.addons["vpc-cni"] == "unknown"
    assert row.state == "degraded"
    assert "1 upgrade insight(s) in ERROR" in row.problems


def arc_spec() -> FleetSpec:
    raw = prod_raw()
    raw["dns"]["arc"] = True
    arn = "arn:aws:route53-recovery-control::123456789012:controlpanel/abc/routingcontrol/{}"
    raw["dns"]["arcRuntime"] = {
        "clusterEndpoints": {
            "us-east-1": "https://host-aaaa.us-east-1.example.com/v1",
            "us-west-2": "https://host-bbbb.us-west-2.example.com/v1",
        },
        "routingControls": {"prod-us": arn.format("a1"), "prod-eu": arn.format("b2")},
    }
    return load_fleet(raw)


def test_the_arc_control_state_is_read_from_the_first_endpoint_that_answers(prod_run: Run) -> None:
    create_cluster(prod_run, "prod-us", "us-east-1")
    spec = arc_spec()
    control = spec.dns.arc_runtime.routing_controls["prod-us"]  # type: ignore[union-attr]
    clients: dict[str, Any] = {}

    def arc_client(endpoint: str, region: str) -> Any:
        if endpoint not in clients:
            client = boto3.client("route53-recovery-cluster", region_name=region, endpoint_url=endpoint)
            stub = Stubber(client)
            if region == "us-east-1":
                stub.add_client_error(
                    "get_routing_control_state", "EndpointTemporarilyUnavailableException", http_status_code=503
                )
            else:
                stub.add_response(
                    "get_routing_control_state",
                    {"RoutingControlArn": control, "RoutingControlState": "Off", "RoutingControlName": "prod-us"},
                    {"RoutingControlArn": control},
                )
            stub.activate()
            clients[endpoint] = client
        return clients[endpoint]

    row = status.cluster_row(spec, spec.clusters[0], status.boto3_clients, arc_client, status.EdgeChecks(), TODAY)
    assert row.arc == "Off"
    assert "its ARC routing control is Off: its records are out of every answer" in row.problems


def test_a_hundred_clusters_take_a_fixed_number_of_calls_each_and_well_under_a_minute() -> None:
    from tests.test_interconnect import generated_raw

    spec = load_fleet(generated_raw(100))
    for cluster in spec.clusters:
        boto3.client("eks", region_name=cluster.region).create_cluster(
            name=cluster.name, version="1.35", roleArn=f"arn:aws:iam::{ACCOUNT}:role/c", resourcesVpcConfig={"subnetIds": ["s"]}
        )
    started = time.monotonic()
    rows, _ = status.collect(spec, status.boto3_clients, TODAY)
    elapsed = time.monotonic() - started
    assert elapsed < 60
    # DescribeCluster, ListInsights, ListNodegroups and one DescribeAddon per managed add-on; no node groups
    # and no health checks were created here (one more call per group, and per routed edge's check).
    assert {r.calls for r in rows} == {3 + len(status.MANAGED_ADDONS)}


# ---------------------------------------------------------------- each cluster's own API


def endpoint(cluster: str, ip: str) -> dict[str, Any]:
    return {
        "backend": "libreswan",
        "cable_name": f"submariner-cable-{cluster}-{ip.replace('.', '-')}",
        "cluster_id": cluster,
        "hostname": f"ip-{ip.replace('.', '-')}",
        "nat_enabled": True,
        "private_ip": ip,
        "public_ip": "203.0.113.7",
        "subnets": ["10.100.0.0/16"],
    }


def kube_fixtures() -> dict[str, dict[str, Any]]:
    """A NodeList, a Submariner GatewayList and an Argo CD ApplicationList as the API server returns them;
    every item is checked against Kubernetes' own schema or the pinned charts' CRDs below."""
    node: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": "ip-10-20-1-5.ec2.internal", "labels": {"eks.amazonaws.com/nodegroup": "prod-us-arm-0a1b2c3"}},
        "status": {"conditions": [{"type": "Ready", "status": "True"}]},
    }
    not_ready = {
        **node,
        "metadata": {**node["metadata"], "name": "ip-10-20-1-6.ec2.internal"},
        "status": {"conditions": [{"type": "Ready", "status": "False"}]},
    }
    gateway = {
        "apiVersion": "submariner.io/v1",
        "kind": "Gateway",
        "metadata": {"name": "ip-10-20-2-7.ec2.internal", "namespace": "submariner-operator"},
        "status": {
            "haStatus": "active",
            "localEndpoint": endpoint("prod-us", "10.20.2.7"),
            "statusFailure": "",
            "version": "0.19.0",
            "connections": [
                {
                    "status": "error",
                    "statusMessage": "timeout",
                    "endpoint": endpoint("prod-eu", "10.30.2.7"),
                }
            ],
        },
    }
    application = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "myapp-prod-us", "namespace": "argocd"},
        "spec": {
            "project": "default",
            "destination": {"server": "https://x.eks.amazonaws.com"},
            "source": {"repoURL": "https://example.com/r.git"},
        },
        "status": {"sync": {"status": "OutOfSync"}, "health": {"status": "Degraded"}},
    }
    return {
        status_kube.NODES: {"apiVersion": "v1", "kind": "NodeList", "items": [node, not_ready]},
        status_kube.GATEWAYS: {"apiVersion": "submariner.io/v1", "kind": "GatewayList", "items": [gateway]},
        status_kube.APPLICATIONS: {"apiVersion": "argoproj.io/v1alpha1", "kind": "ApplicationList", "items": [application]},
    }


def test_the_fixtures_are_what_the_api_server_would_serve() -> None:
    import yaml

    from offline import charts
    from tests.reference import PINNED, crd_schema

    broker = charts.chart_dir(*PINNED["submariner/submariner-k8s-broker"]) / "crds" / "crd.yaml"
    crds = charts.crd_index(d for d in yaml.safe_load_all(broker.read_text()) if d)
    crds[("argoproj.io/v1alpha1", "Application")] = crd_schema("argo-cd/crd-application.yaml")
    for listed in kube_fixtures().values():
        for item in listed["items"]:
            assert charts.object_errors(item, "1.35", crds) == [], item["kind"]


def row_served(spec: FleetSpec, served: dict[str, dict[str, Any]]) -> status.ClusterRow:
    """The first cluster's row, its own API answering with ``served`` (by path)."""
    return status.cluster_row(
        spec,
        spec.clusters[0],
        status.boto3_clients,
        status.boto3_clients,
        status.EdgeChecks(),
        TODAY,
        lambda api, path: served[path],
    )


def test_ready_nodes_gateways_and_applications_are_read_and_judged(prod_run: Run) -> None:
    create_cluster(prod_run, "prod-us", "us-east-1")
    served = kube_fixtures()
    spec = load_fleet(prod_raw())
    row = row_served(spec, served)
    arm = [g for g in row.node_groups if g.name == "prod-us-arm-0a1b2c3"]
    assert [g.ready_nodes for g in arm] == [1]
    assert isinstance(row.kubernetes, dict)
    assert row.kubernetes["gateways"][0]["connections"] == {"prod-eu": "error"}
    assert "Submariner gateway ip-10-20-2-7.ec2.internal: connection to prod-eu is error" in row.problems
    # prod's clusters are not the hub (mgmt runs Argo CD): no applications are read there.
    assert "applications" not in row.kubernetes
    assert row.state == "degraded"


def test_an_api_that_does_not_answer_is_said_and_fails_nothing(prod_run: Run) -> None:
    create_cluster(prod_run, "prod-us", "us-east-1")

    def refuse(api: status_kube.Api, path: str) -> Any:
        raise OSError("timed out")

    spec = load_fleet(prod_raw())
    row = status.cluster_row(
        spec, spec.clusters[0], status.boto3_clients, status.boto3_clients, status.EdgeChecks(), TODAY, refuse
    )
    assert row.kubernetes == "unreachable: timed out"
    assert row.state == "ok"


def test_the_token_is_the_one_eks_accepts() -> None:
    # aws-iam-authenticator pkg/token/token.go: prefix k8s-aws-v1., a presigned sts GetCallerIdentity URL
    # whose signed headers include x-k8s-aws-id and whose X-Amz-Expires is 60.
    import base64
    from urllib.parse import parse_qs, urlsplit

    saved = os.environ.pop("AWS_ENDPOINT_URL", None)
    try:
        status_kube._STS.clear()
        token = status_kube.eks_token("prod-us", "us-east-1")
    finally:
        status_kube._STS.clear()
        if saved is not None:
            os.environ["AWS_ENDPOINT_URL"] = saved
    assert token.startswith("k8s-aws-v1.")
    body = token.removeprefix("k8s-aws-v1.")
    url = urlsplit(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode())
    query = parse_qs(url.query)
    assert query["Action"] == ["GetCallerIdentity"]
    assert query["X-Amz-Expires"] == ["60"]
    assert "x-k8s-aws-id" in query["X-Amz-SignedHeaders"][0].split(";")
    assert url.hostname == "sts.us-east-1.amazonaws.com"


def test_the_hubs_argo_cd_applications_are_read_there() -> None:
    mgmt_run = run_stack("mgmt")
    create_cluster(mgmt_run, "mgmt", "us-east-1", stack="mgmt")
    served = kube_fixtures()
    spec = load_fleet({k.removeprefix("fleet:"): v for k, v in stack_config("mgmt").items()})
    row = row_served(spec, served)
    assert isinstance(row.kubernetes, dict)
    assert row.kubernetes["applications"] == {"myapp-prod-us": {"sync": "OutOfSync", "health": "Degraded"}}
    assert "Argo CD application myapp-prod-us: OutOfSync, Degraded" in row.problems


def test_listings_longer_than_a_page_are_read_to_the_end(prod_run: Run) -> None:
    create_cluster(prod_run, "prod-us", "us-east-1")
    client = boto3.client("eks", region_name="us-east-1")
    stub = Stubber(client)
    stub.add_response("list_nodegroups", {"nodegroups": ["prod-us-arm-0a1b2c3"], "nextToken": "t1"}, {"clusterName": "prod-us"})
    stub.add_response("list_nodegroups", {"nodegroups": []}, {"clusterName": "prod-us", "nextToken": "t1"})
    stub.activate()
    row = status.ClusterRow("prod-us", "us-east-1", "ok")
    names = status._pages(status._Counted(client, row), "list_nodegroups", "nodegroups", clusterName="prod-us")
    assert (names, row.calls) == (["prod-us-arm-0a1b2c3"], 2)
    stub.assert_no_pending_responses()


def test_a_terminal_gets_a_progress_line(prod_run: Run) -> None:
    import io

    create_cluster(prod_run, "prod-us", "us-east-1")
    progress = io.StringIO()
    status.collect(load_fleet(prod_raw()), status.boto3_clients, TODAY, progress=progress)
    assert progress.getvalue() == "\r1/2 clusters\r2/2 clusters\n"


def test_a_node_group_past_the_kubelet_skew_is_a_problem(prod_run: Run) -> None:
    # Kubernetes' version skew policy: a kubelet up to three minors behind kube-apiserver.
    create_cluster(prod_run, "prod-us", "us-east-1")
    eks = boto3.client("eks", region_name="us-east-1")
    eks.create_nodegroup(
        clusterName="prod-us",
        nodegroupName="prod-us-old-0a1b2c3",
        nodeRole=f"arn:aws:iam::{ACCOUNT}:role/n",
        subnets=["subnet-1"],
        labels={"fleet/node-group": "old"},
        version="1.31",
    )
    spec = load_fleet(prod_raw())
    row = status.cluster_row(spec, spec.clusters[0], status.boto3_clients, status.boto3_clients, status.EdgeChecks(), TODAY)
    assert row.problems == [
        "node group prod-us-old-0a1b2c3 runs 1.31, 4 minors behind the control plane's 1.35 (Kubernetes allows 3)"
    ]


def test_a_node_group_newer_than_its_control_plane_is_a_problem(prod_run: Run) -> None:
    create_cluster(prod_run, "prod-us", "us-east-1", version="1.34")
    eks = boto3.client("eks", region_name="us-east-1")
    eks.create_nodegroup(
        clusterName="prod-us",
        nodegroupName="prod-us-new-0a1b2c3",
        nodeRole=f"arn:aws:iam::{ACCOUNT}:role/n",
        subnets=["subnet-1"],
        labels={"fleet/node-group": "new"},
        version="1.35",
    )
    spec = load_fleet(prod_raw())
    row = status.cluster_row(spec, spec.clusters[0], status.boto3_clients, status.boto3_clients, status.EdgeChecks(), TODAY)
    assert "node group prod-us-new-0a1b2c3 runs 1.35, newer than the control plane's 1.34" in row.problems


def test_a_certificate_authority_that_does_not_load_is_unreadable_not_unreachable() -> None:
    import base64

    api = status_kube.Api("prod-us", "us-east-1", "https://127.0.0.1:9", base64.b64encode(b"not a certificate").decode())
    found, problems = status_kube.read(api, status_kube.https_get, False, False)
    assert isinstance(found, str)
    assert found.startswith("unreadable: the cluster's certificate authority does not load")
    assert problems == []
