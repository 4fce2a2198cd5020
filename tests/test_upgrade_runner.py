"""python -m deploy upgrade / rollback (deploy/upgrade.py) against fakes: a stack that records its
config writes, a fake kubectl, and botocore's Stubber answering EKS calls in the real API's shapes."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from pulumi import automation as auto

from components.config import hub_stack
from components.config.model import FleetSpec
from components.planning import gitops, upgrades
from components.planning.checks import load_fleet
from deploy.rollback import rollback
from deploy.runner import ExitCode
from deploy.upgrade import Runner, run_campaign
from offline.mock_aws import eks_endpoint
from tests.config_cases import raw_prod
from tests.reference_stacks import fleet_hub_project

NOW = dt.datetime(2026, 12, 3, 12, 0, tzinfo=dt.UTC)


def spec_at(version: str, support: str = "EXTENDED") -> FleetSpec:
    raw = raw_prod()
    raw["kubernetesVersion"] = version
    raw["supportType"] = support
    raw["upgrades"] = {
        "waves": [{"name": "eu", "clusters": ["prod-eu"]}, {"name": "rest", "clusters": ["prod-us", "mgmt", "staging-us"]}]
    }
    return hub_stack.with_hub_stack(load_fleet(raw), fleet_hub_project(), stack="prod")


class FakeStack:
    def __init__(self) -> None:
        self.config: list[tuple[str, str, bool]] = []

    def set_config(self, key: str, value: auto.ConfigValue, *, path: bool = False) -> None:
        self.config.append((key, value.value, path))

    def remove_config(self, key: str, *, path: bool = False) -> None:
        self.config.append((key, "(removed)", path))


PROD_EU_ENDPOINT = eks_endpoint("prod-eu", "eu-west-1")
VERSION_KEY = "fleet:clusters[2].kubernetesVersion"
"""prod-eu's own kubernetesVersion in prod's stack file."""


def generated_apps(cluster: str = "prod-eu", server: str = PROD_EU_ENDPOINT) -> list[dict[str, Any]]:
    """The Applications the hub's ApplicationSets generate for ``cluster``, built by the code that
    writes the sets (the controller fills the template with the cluster generator's parameters)."""
    spec = spec_at("1.34")
    hub = spec if spec.gitops is not None else spec.joined_hub
    assert hub is not None
    assert hub.gitops is not None
    member = next(c for c in spec.clusters if c.name == cluster)
    registered = gitops.RegisteredCluster(cluster, server, gitops.cluster_labels(member, "prod"))
    return [
        gitops.application_manifest(s, hub.gitops.repo, registered)
        for s in hub.gitops.application_sets
        if gitops.selects(s.selector, registered.labels)
    ]


class FakeKubectl:
    def __init__(
        self,
        kubelet: str = "v1.35.2-eks-1",
        app_reconciled: str = "2026-12-03T12:05:00Z",
        apps: list[dict[str, Any]] | None = None,
    ) -> None:
        self.kubelet, self.app_reconciled = kubelet, app_reconciled
        self.apps = generated_apps() if apps is None else apps
        self.calls: list[tuple[str, str]] = []

    def get(self, context: str, resource: str, namespace: str | None = None) -> list[dict[str, Any]]:
        self.calls.append((context, resource))
        if resource == "nodes":
            ready = [{"type": "Ready", "status": "True"}]
            return [
                {
                    "metadata": {"name": f"{context}-node"},
                    "status": {"conditions": ready, "nodeInfo": {"kubeletVersion": self.kubelet}},
                }
            ]
        if resource == "gateways.submariner.io":
            return [{"status": {"connections": [{"status": "connected", "endpoint": {"cluster_id": "prod-us"}}]}}]
        if resource == "applications.argoproj.io":
            status = {"sync": {"status": "Synced"}, "health": {"status": "Healthy"}, "reconciledAt": self.app_reconciled}
            return [{**app, "status": status} for app in self.apps]
        raise AssertionError(resource)


def eks_client(region: str) -> Any:
    return boto3.client("eks", region_name=region, aws_access_key_id="test", aws_secret_access_key="test")


class Eks:
    """One stubbed client per region, the answers queued in the order the runner asks."""

    def __init__(self) -> None:
        self.clients: dict[str, Any] = {}
        self.stubs: dict[str, Stubber] = {}

    def stub(self, region: str) -> Stubber:
        if region not in self.clients:
            self.clients[region] = eks_client(region)
            self.stubs[region] = Stubber(self.clients[region])
            self.stubs[region].activate()
        return self.stubs[region]

    def __call__(self, region: str) -> Any:
        self.stub(region)
        return self.clients[region]

    def done(self) -> None:
        for stub in self.stubs.values():
            stub.assert_no_pending_responses()


def cluster(name: str, status: str = "ACTIVE", version: str = "1.34") -> dict[str, Any]:
    return {"cluster": {"name": name, "status": status, "version": version}}


def insights(status: str = "PASSING") -> dict[str, Any]:
    status = status.removesuffix("-ACCEPTED")
    return {
        "insights": [
            {
                "id": "a1b2c3d4-0000-0000-0000-000000000000",
                "name": "Deprecated APIs removed in Kubernetes v1.35",
                "category": "UPGRADE_READINESS",
                "kubernetesVersion": "1.35",
                "insightStatus": {
                    "status": status,
                    "reason": "No deprecated API usage detected" if status == "PASSING" else "API in use",
                },
            }
        ]
    }


def runner(
    spec: FleetSpec, eks: Eks, kubectl: FakeKubectl, stacks: dict[str, FakeStack], ups: list[str], ok: bool = True
) -> Runner:
    def up(stack: str) -> tuple[bool, str]:
        ups.append(stack)
        return ok, "" if ok else "up of prod failed: error: update failed"

    slept: list[float] = []
    built = Runner(
        spec,
        upgrades.plan_campaign(spec, "1.35"),
        lambda name: stacks.setdefault(name, FakeStack()),
        up,
        eks,
        kubectl,
        sleep=slept.append,
        now=lambda: NOW,
    )
    built.slept = slept  # type: ignore[attr-defined]
    return built


def queue_wave_eu(
    eks: Eks,
    insight: str = "PASSING",
    status: str = "ACTIVE",
    version_after: str = "1.35",
    group_before: str = "1.34",
    failed_up_at: str | None = None,
) -> None:
    stub = eks.stub("eu-west-1")
    stub.add_response("describe_cluster", cluster("prod-eu", status), {"name": "prod-eu"})
    if status != "ACTIVE":
        return
    # The skew gate: the node groups as EKS describes them, at the control plane's minor.
    stub.add_response("list_nodegroups", {"nodegroups": ["prod-eu-general-1"]}, {"clusterName": "prod-eu"})
    stub.add_response(
        "describe_nodegroup",
        {"nodegroup": {"nodegroupName": "prod-eu-general-1", "status": "ACTIVE", "version": group_before}},
        {"clusterName": "prod-eu", "nodegroupName": "prod-eu-general-1"},
    )
    if group_before != "1.34":
        return
    # A fresh insights reading, not the one of up to a day ago.
    stub.add_response("start_insights_refresh", {"message": "started", "status": "IN_PROGRESS"}, {"clusterName": "prod-eu"})
    stub.add_response(
        "describe_insights_refresh", {"message": "", "status": "IN_PROGRESS", "startedAt": NOW}, {"clusterName": "prod-eu"}
    )
    stub.add_response(
        "describe_insights_refresh",
        {"message": "", "status": "COMPLETED", "startedAt": NOW, "endedAt": NOW},
        {"clusterName": "prod-eu"},
    )
    stub.add_response(
        "list_insights",
        insights(insight),
        {"clusterName": "prod-eu", "filter": {"categories": ["UPGRADE_READINESS"], "kubernetesVersions": ["1.35"]}},
    )
    if insight.removesuffix("-ACCEPTED") not in accepted_insights(insight):
        return
    if failed_up_at is not None:
        # After a failed up: where the control plane is decides whether the config goes back.
        stub.add_response("describe_cluster", cluster("prod-eu", version=failed_up_at), {"name": "prod-eu"})
        return
    stub.add_response("list_nodegroups", {"nodegroups": ["prod-eu-general-1"]}, {"clusterName": "prod-eu"})
    stub.add_response(
        "describe_nodegroup",
        {"nodegroup": {"nodegroupName": "prod-eu-general-1", "status": "ACTIVE", "version": version_after}},
        {"clusterName": "prod-eu", "nodegroupName": "prod-eu-general-1"},
    )
    # The health gate finds the cluster's Applications by its server, the endpoint EKS describes.
    stub.add_response(
        "describe_cluster",
        {"cluster": {**cluster("prod-eu", version=version_after)["cluster"], "endpoint": PROD_EU_ENDPOINT}},
        {"name": "prod-eu"},
    )


def test_a_wave_checks_insights_raises_its_clusters_updates_checks_health_then_waits_for_approval() -> None:
    eks, kubectl = Eks(), FakeKubectl()
    stacks: dict[str, FakeStack] = {}
    ups: list[str] = []
    queue_wave_eu(eks)
    built = runner(spec_at("1.34"), eks, kubectl, stacks, ups)
    summary = run_campaign("prod", built)
    eks.done()
    assert summary.done == ["eu: 1.34 -> 1.35"]
    assert summary.exit_code == ExitCode.AWAITING_APPROVAL
    assert summary.resume == "python -m deploy upgrade --stack prod --to 1.35 --from-wave 2 --approve"
    assert stacks["prod"].config == [("fleet:clusters[2].kubernetesVersion", "1.35", True)]
    assert ups == ["prod"]
    assert built.slept == [30, 30 * 60]  # type: ignore[attr-defined]  # the insights refresh's poll, then the soak
    assert ("prod-eu", "nodes") in kubectl.calls
    assert ("mgmt", "applications.argoproj.io") in kubectl.calls


def accepted_insights(insight: str) -> set[str]:
    return {"PASSING", "UNKNOWN"} if insight == "UNKNOWN-ACCEPTED" else {"PASSING"}


def test_a_node_group_behind_the_control_plane_stops_the_hop_before_any_change() -> None:
    # Issue 34, defect 5: the skew gate was hard-coded to pass.
    eks = Eks()
    queue_wave_eu(eks, group_before="1.33")
    ups: list[str] = []
    summary = run_campaign("prod", runner(spec_at("1.34"), eks, FakeKubectl(), {}, ups))
    eks.done()
    assert ups == []
    assert summary.stopped is not None
    assert summary.stopped.gate == "insights"
    assert "prod-eu: the control plane is at 1.34 but node group prod-eu-general-1 is at 1.33" in summary.stopped.detail


def test_an_unknown_insight_stops_unless_accepted() -> None:
    eks = Eks()
    queue_wave_eu(eks, insight="UNKNOWN")
    summary = run_campaign("prod", runner(spec_at("1.34"), eks, FakeKubectl(), {}, []))
    assert summary.stopped is not None
    assert "--accept-unknown-insights" in summary.stopped.detail
    eks = Eks()
    queue_wave_eu(eks, insight="UNKNOWN-ACCEPTED")
    built = runner(spec_at("1.34"), eks, FakeKubectl(), {}, [])
    built.accept_unknown_insights = True
    summary = run_campaign("prod", built)
    eks.done()
    assert summary.exit_code == ExitCode.AWAITING_APPROVAL, summary.as_json()


def test_a_failing_insight_stops_before_any_change() -> None:
    eks = Eks()
    stacks: dict[str, FakeStack] = {}
    ups: list[str] = []
    queue_wave_eu(eks, insight="ERROR")
    summary = run_campaign("prod", runner(spec_at("1.34"), eks, FakeKubectl(), stacks, ups))
    eks.done()
    assert summary.exit_code == ExitCode.FAILED
    assert summary.stopped is not None
    assert (summary.stopped.wave, summary.stopped.gate) == ("eu", "insights")
    assert "is ERROR: API in use" in summary.stopped.detail
    assert stacks == {}
    assert ups == []
    assert summary.resume == "python -m deploy upgrade --stack prod --to 1.35 --from-wave 1"


def test_an_update_in_progress_stops_the_campaign() -> None:
    eks = Eks()
    ups: list[str] = []
    queue_wave_eu(eks, status="UPDATING")
    summary = run_campaign("prod", runner(spec_at("1.34"), eks, FakeKubectl(), {}, ups))
    assert summary.stopped is not None
    assert "an update is in progress" in summary.stopped.detail
    assert ups == []


def test_nodes_left_on_the_old_minor_or_a_stale_application_stop_the_wave() -> None:
    eks = Eks()
    queue_wave_eu(eks, version_after="1.34")
    summary = run_campaign(
        "prod", runner(spec_at("1.34"), eks, FakeKubectl(kubelet="v1.34.9-eks-1", app_reconciled="2026-12-03T11:00:00Z"), {}, [])
    )
    assert summary.stopped is not None
    assert summary.stopped.gate == "health"
    detail = summary.stopped.detail
    assert "node prod-eu-node is Ready at v1.34.9-eks-1" in detail
    assert "node group prod-eu-general-1 is ACTIVE at 1.34" in detail
    assert "not reconciled since the update" in detail


@pytest.mark.parametrize(
    ("apps", "expected"),
    [
        # Issue 34, defect 2: the gate matched destination.name, which the sets never set, so it checked nothing.
        (
            [{"metadata": {"name": "other"}, "spec": {"destination": {"name": "prod-eu"}}}],
            "Application myapp-prod-eu (prod-eu) does not exist: its ApplicationSet has not generated it",
        ),
        (
            [{**generated_apps()[0], "spec": {**generated_apps()[0]["spec"], "destination": {"server": "https://elsewhere"}}}],
            "Application myapp-prod-eu deploys to https://elsewhere, not to prod-eu",
        ),
    ],
)
def test_the_application_gate_checks_the_applications_the_sets_generate(apps: list[dict[str, Any]], expected: str) -> None:
    eks = Eks()
    queue_wave_eu(eks)
    summary = run_campaign("prod", runner(spec_at("1.34"), eks, FakeKubectl(apps=apps), {}, []))
    assert summary.stopped is not None
    assert summary.stopped.gate == "health"
    assert expected in summary.stopped.detail


def test_the_generated_application_has_the_shape_argo_cd_generates() -> None:
    # Argo CD's ApplicationSet controller renders the template's strings with the cluster generator's
    # parameters ({{name}}, {{server}}, labels): destination.server is the cluster's API server.
    (app,) = generated_apps()
    assert app["apiVersion"] == "argoproj.io/v1alpha1"
    assert app["kind"] == "Application"
    assert app["metadata"]["name"] == "myapp-prod-eu"
    assert app["metadata"]["namespace"] == "argocd"
    assert app["spec"]["destination"] == {"server": PROD_EU_ENDPOINT, "namespace": "myapp"}
    assert "{{" not in json.dumps(app)
    # And Argo CD's own Application CRD, rendered from the pinned chart, admits it.
    from tests.reference import schema_errors

    assert schema_errors(app, "argo-cd/crd-application.yaml") == []


@pytest.mark.parametrize(
    ("running", "written"),
    [
        # Review of #34: the hop's config write survived a failed up, so the resumed campaign no longer
        # counted the cluster as moving and never ran its health gate.
        ("1.34", [(VERSION_KEY, "1.35", True), (VERSION_KEY, "(removed)", True)]),
        # Review 2: the control plane reached 1.35, then a node group failed (PodEvictionFailure); 1.34
        # written back would make every later deploy a rollback request, which the deploy refuses.
        ("1.35", [(VERSION_KEY, "1.35", True)]),
    ],
)
def test_a_failed_up_stops_with_the_resume_command_and_the_config_of_what_runs(
    running: str, written: list[tuple[str, str, bool]]
) -> None:
    eks = Eks()
    stacks: dict[str, FakeStack] = {}
    queue_wave_eu(eks, failed_up_at=running)
    summary = run_campaign("prod", runner(spec_at("1.34"), eks, FakeKubectl(), stacks, [], ok=False))
    eks.done()
    assert summary.stopped is not None
    assert (summary.stopped.gate, summary.stopped.detail) == ("up", "up of prod failed: error: update failed")
    assert summary.resume == "python -m deploy upgrade --stack prod --to 1.35 --from-wave 1"
    assert stacks["prod"].config == written


def test_a_control_plane_eks_already_upgraded_finishes_its_hop() -> None:
    # Review of #34: EKS upgraded prod-eu's control plane to 1.35 itself (end of standard support); its
    # node groups still run 1.34. The skew gate stopped and pointed at a `pulumi up` that asks for 1.34.
    eks, kubectl = Eks(), FakeKubectl()
    stacks: dict[str, FakeStack] = {}
    ups: list[str] = []
    stub = eks.stub("eu-west-1")
    stub.add_response("describe_cluster", cluster("prod-eu", version="1.35"), {"name": "prod-eu"})
    stub.add_response("list_nodegroups", {"nodegroups": ["prod-eu-general-1"]}, {"clusterName": "prod-eu"})
    stub.add_response(
        "describe_nodegroup",
        {"nodegroup": {"nodegroupName": "prod-eu-general-1", "status": "ACTIVE", "version": "1.35"}},
        {"clusterName": "prod-eu", "nodegroupName": "prod-eu-general-1"},
    )
    stub.add_response(
        "describe_cluster",
        {"cluster": {**cluster("prod-eu", version="1.35")["cluster"], "endpoint": PROD_EU_ENDPOINT}},
        {"name": "prod-eu"},
    )
    summary = run_campaign("prod", runner(spec_at("1.34", support="STANDARD"), eks, kubectl, stacks, ups))
    eks.done()  # no skew read, no insights refresh: the control plane is where the hop leads
    assert summary.done == ["eu: 1.34 -> 1.35"], summary.as_json()
    assert stacks["prod"].config == [("fleet:clusters[2].kubernetesVersion", "1.35", True)]
    assert ups == ["prod"]


def test_a_control_plane_at_neither_end_of_the_hop_stops_it() -> None:
    eks = Eks()
    eks.stub("eu-west-1").add_response("describe_cluster", cluster("prod-eu", version="1.33"), {"name": "prod-eu"})
    ups: list[str] = []
    summary = run_campaign("prod", runner(spec_at("1.34"), eks, FakeKubectl(), {}, ups))
    eks.done()
    assert summary.stopped is not None
    assert "prod-eu runs 1.33, not 1.34" in summary.stopped.detail
    assert "set its kubernetesVersion to 1.33" in summary.stopped.detail
    assert ups == []


def test_an_eks_error_stops_with_the_resume_command_not_a_traceback() -> None:
    eks = Eks()
    stub = eks.stub("eu-west-1")
    stub.add_response("describe_cluster", cluster("prod-eu"), {"name": "prod-eu"})
    stub.add_response("list_nodegroups", {"nodegroups": []}, {"clusterName": "prod-eu"})
    stub.add_client_error(
        "start_insights_refresh",
        service_error_code="AccessDeniedException",
        service_message="User is not authorized to perform: eks:StartInsightsRefresh",
        http_status_code=403,
    )
    summary = run_campaign("prod", runner(spec_at("1.34"), eks, FakeKubectl(), {}, []))
    assert summary.stopped is not None
    assert summary.stopped.detail == (
        "EKS refused StartInsightsRefresh: User is not authorized to perform: eks:StartInsightsRefresh"
    )
    assert summary.stopped.gate == "aws"
    assert summary.resume == "python -m deploy upgrade --stack prod --to 1.35 --from-wave 1"


def test_a_campaign_whose_plan_fails_a_gate_changes_nothing() -> None:
    eks = Eks()
    stacks: dict[str, FakeStack] = {}
    ups: list[str] = []
    spec = spec_at("1.35", support="STANDARD")
    built = runner(spec, eks, FakeKubectl(), stacks, ups)
    built.campaign = upgrades.plan_campaign(spec, "1.34")
    summary = run_campaign("prod", built)
    assert summary.stopped is not None
    assert summary.stopped.gate == "plan"
    assert "never moves a control plane down" in summary.stopped.detail
    assert (stacks, ups, eks.clients) == ({}, [], {})


# ---------------------------------------------------------------- rollback


def version_update(update_id: str, version: str, created: dt.datetime, kind: str = "VersionUpdate") -> dict[str, Any]:
    return {
        "update": {
            "id": update_id,
            "status": "Successful",
            "type": kind,
            "params": [{"type": "Version", "value": version}, {"type": "PlatformVersion", "value": "eks.1"}],
            "createdAt": created,
        }
    }


def queue_rollback_history(eks: Eks, upgraded: dt.datetime) -> Stubber:
    """prod-eu at 1.35; its update history spans two pages, and the upgrade to 1.35 is not the newest update."""
    stub = eks.stub("eu-west-1")
    stub.add_response("describe_cluster", cluster("prod-eu", version="1.35"), {"name": "prod-eu"})
    stub.add_response("list_updates", {"updateIds": ["u-logging"], "nextToken": "page-2"}, {"name": "prod-eu"})
    stub.add_response("list_updates", {"updateIds": ["u-1.35", "u-1.34"]}, {"name": "prod-eu", "nextToken": "page-2"})
    logging = {"update": {"id": "u-logging", "status": "Successful", "type": "LoggingUpdate", "params": [], "createdAt": NOW}}
    stub.add_response("describe_update", logging, {"name": "prod-eu", "updateId": "u-logging"})
    stub.add_response("describe_update", version_update("u-1.35", "1.35", upgraded), {"name": "prod-eu", "updateId": "u-1.35"})
    stub.add_response(
        "describe_update",
        version_update("u-1.34", "1.34", upgraded - dt.timedelta(days=90)),
        {"name": "prod-eu", "updateId": "u-1.34"},
    )
    return stub


def rollback_insights(status: str = "PASSING", name: str = "Kubelet version skew") -> dict[str, Any]:
    return {
        "insights": [
            {
                "id": "b2c3d4e5-0000-0000-0000-000000000000",
                "name": name,
                "category": "ROLLBACK_READINESS",
                "kubernetesVersion": "1.34",
                "insightStatus": {"status": status, "reason": "ok" if status == "PASSING" else "a kubelet is at 1.35"},
            }
        ]
    }


def queue_group_at(stub: Stubber, version: str) -> None:
    stub.add_response("list_nodegroups", {"nodegroups": ["prod-eu-general-1"]}, {"clusterName": "prod-eu"})
    stub.add_response(
        "describe_nodegroup",
        {"nodegroup": {"nodegroupName": "prod-eu-general-1", "status": "ACTIVE", "version": version}},
        {"clusterName": "prod-eu", "nodegroupName": "prod-eu-general-1"},
    )


def queue_refresh(stub: Stubber) -> None:
    stub.add_response("start_insights_refresh", {"message": "started", "status": "IN_PROGRESS"}, {"clusterName": "prod-eu"})
    stub.add_response(
        "describe_insights_refresh",
        {"message": "", "status": "COMPLETED", "startedAt": NOW, "endedAt": NOW},
        {"clusterName": "prod-eu"},
    )


def queue_readiness(stub: Stubber, status: str = "PASSING", name: str = "Kubelet version skew") -> None:
    # The guide's own filter: the category alone (rollback-cluster.adoc, "Viewing rollback readiness insights").
    queue_refresh(stub)
    stub.add_response(
        "list_insights",
        rollback_insights(status, name),
        {"clusterName": "prod-eu", "filter": {"categories": ["ROLLBACK_READINESS"]}},
    )


def addon_versions(addon: str, builds: dict[str, bool], minor: str = "1.34") -> dict[str, Any]:
    """DescribeAddonVersions for one add-on and minor: each build with its compatibility (default or not)."""
    return {
        "addons": [
            {
                "addonName": addon,
                "type": "networking",
                "addonVersions": [
                    {
                        "addonVersion": build,
                        "architecture": ["amd64", "arm64"],
                        "compatibilities": [{"clusterVersion": minor, "platformVersions": ["*"], "defaultVersion": default}],
                        "requiresConfiguration": False,
                    }
                    for build, default in builds.items()
                ],
            }
        ]
    }


def queue_addons(stub: Stubber) -> None:
    """kube-proxy at 1.35's build (which 1.34 does not run), CoreDNS at a build both minors run, EBS CSI
    at a build EKS lists for 1.35 only."""
    from components.aws import eks_releases

    release, newer = eks_releases.RELEASES["1.34"], eks_releases.RELEASES["1.35"]
    stub.add_response("list_addons", {"addons": ["kube-proxy", "coredns", "aws-ebs-csi-driver"]}, {"clusterName": "prod-eu"})
    installed = {"kube-proxy": newer.kube_proxy, "coredns": newer.coredns, "aws-ebs-csi-driver": "v1.53.0-eksbuild.1"}
    listed = {
        "kube-proxy": {release.kube_proxy: True, "v1.34.1-eksbuild.1": False},
        "coredns": {release.coredns: True},
        "aws-ebs-csi-driver": {"v1.52.1-eksbuild.1": True},
    }
    for addon, version in installed.items():
        stub.add_response(
            "describe_addon",
            {"addon": {"addonName": addon, "clusterName": "prod-eu", "status": "ACTIVE", "addonVersion": version}},
            {"clusterName": "prod-eu", "addonName": addon},
        )
        stub.add_response(
            "describe_addon_versions", addon_versions(addon, listed[addon]), {"addonName": addon, "kubernetesVersion": "1.34"}
        )
        target = {"kube-proxy": release.kube_proxy, "aws-ebs-csi-driver": "v1.52.1-eksbuild.1"}.get(addon)
        if target is None:
            continue
        stub.add_response(
            "update_addon",
            {"update": {"id": f"u-{addon}", "status": "InProgress", "type": "AddonUpdate"}},
            {"clusterName": "prod-eu", "addonName": addon, "addonVersion": target, "resolveConflicts": "PRESERVE"},
        )
        stub.add_response(
            "describe_update",
            {"update": {"id": f"u-{addon}", "status": "Successful"}},
            {"name": "prod-eu", "updateId": f"u-{addon}", "addonName": addon},
        )


def queue_nodes_back(stub: Stubber) -> None:
    from components.aws import eks_releases

    release = eks_releases.RELEASES["1.34"]
    queue_group_at(stub, "1.35")
    stub.add_response(
        "update_nodegroup_version",
        {"update": {"id": "u-ng", "status": "InProgress", "type": "VersionUpdate"}},
        {
            "clusterName": "prod-eu",
            "nodegroupName": "prod-eu-general-1",
            "version": "1.34",
            "releaseVersion": release.node_release,
        },
    )
    for status in ("InProgress", "Successful"):
        stub.add_response(
            "describe_update",
            {"update": {"id": "u-ng", "status": status}},
            {"name": "prod-eu", "updateId": "u-ng", "nodegroupName": "prod-eu-general-1"},
        )


def test_rollback_checks_readiness_then_moves_nodes_add_ons_the_control_plane_and_the_config() -> None:
    from components.aws import eks_releases

    eks = Eks()
    stacks: dict[str, FakeStack] = {}
    stub = queue_rollback_history(eks, NOW - dt.timedelta(days=2))
    # Before the nodes move, the skew checks fail by construction (the nodes run 1.35): not a blocker.
    queue_readiness(stub, "ERROR")
    queue_nodes_back(stub)
    queue_addons(stub)
    queue_readiness(stub, "PASSING")
    stub.add_response(
        "update_cluster_version",
        {"update": {"id": "u-cp", "status": "InProgress", "type": "VersionRollback"}},
        {"name": "prod-eu", "version": "1.34"},
    )
    stub.add_response(
        "describe_update", {"update": {"id": "u-cp", "status": "Successful"}}, {"name": "prod-eu", "updateId": "u-cp"}
    )
    slept: list[float] = []
    result = rollback(
        "prod", "prod-eu", spec_at("1.35"), lambda name: stacks.setdefault(name, FakeStack()), eks, NOW, slept.append
    )
    eks.done()
    release, newer = eks_releases.RELEASES["1.34"], eks_releases.RELEASES["1.35"]
    assert result.exit_code == ExitCode.OK, result.error
    assert result.steps == [
        "readiness: insight Kubelet version skew is ERROR: a kubelet is at 1.35 (the rollback moves the nodes and "
        "add-ons first; counted then)",
        f"node group prod-eu-general-1 -> 1.34 ({release.node_release}): Successful",
        f"kube-proxy {newer.kube_proxy} -> {release.kube_proxy}: Successful",
        "aws-ebs-csi-driver v1.53.0-eksbuild.1 -> v1.52.1-eksbuild.1: Successful",
        "control plane 1.35 -> 1.34: Successful",
        "stack config: fleet:clusters[2].kubernetesVersion = 1.34",
    ]
    assert stacks["prod"].config == [("fleet:clusters[2].kubernetesVersion", "1.34", True)]
    assert slept == [30]


def test_an_add_on_compatibility_error_waits_for_the_add_ons_to_move() -> None:
    # Review 2 of #34: kube-proxy runs the new minor's build after every upgrade; EKS's add-on
    # compatibility check fails until the rollback moves it, so the first reading must not stop there.
    eks = Eks()
    stub = queue_rollback_history(eks, NOW - dt.timedelta(days=2))
    queue_readiness(stub, "ERROR", name="Amazon EKS add-on version compatibility")
    queue_nodes_back(stub)
    queue_addons(stub)
    queue_readiness(stub, "ERROR", name="Amazon EKS add-on version compatibility")
    result = rollback("prod", "prod-eu", spec_at("1.35"), lambda name: FakeStack(), eks, NOW, lambda _: None)
    eks.done()
    assert result.error is not None
    assert "with its nodes and add-ons at 1.34: insight Amazon EKS add-on version compatibility is ERROR" in result.error


def test_a_rollback_run_again_after_its_control_plane_step_only_writes_the_config() -> None:
    # Review 2 of #34: the control plane rolled back to 1.34, then the run died before the config. Run
    # again, it must not take 1.34 for an upgrade to roll back (to 1.33: two minors down).
    eks = Eks()
    stub = eks.stub("eu-west-1")
    stub.add_response("describe_cluster", cluster("prod-eu", version="1.34"), {"name": "prod-eu"})
    stub.add_response("list_updates", {"updateIds": ["u-back", "u-1.35", "u-1.34"]}, {"name": "prod-eu"})
    answers = {
        "u-back": version_update("u-back", "1.34", NOW - dt.timedelta(hours=1), kind="VersionRollback"),
        "u-1.35": version_update("u-1.35", "1.35", NOW - dt.timedelta(days=2)),
        "u-1.34": version_update("u-1.34", "1.34", NOW - dt.timedelta(days=3)),
    }
    for update_id, answer in answers.items():
        stub.add_response("describe_update", answer, {"name": "prod-eu", "updateId": update_id})
    stacks: dict[str, FakeStack] = {}
    result = rollback("prod", "prod-eu", spec_at("1.35"), lambda name: stacks.setdefault(name, FakeStack()), eks, NOW)
    eks.done()  # no insight, node group, add-on or control-plane call
    assert result.exit_code == ExitCode.OK, result.error
    assert stacks["prod"].config == [("fleet:clusters[2].kubernetesVersion", "1.34", True)]


def test_an_error_insight_stops_the_rollback_before_anything_moves() -> None:
    # Issue 34, defect 3: the rollback never asked EKS whether it could roll back.
    eks = Eks()
    stub = queue_rollback_history(eks, NOW - dt.timedelta(days=2))
    queue_readiness(stub, "ERROR", name="Deprecated APIs in use")
    result = rollback("prod", "prod-eu", spec_at("1.35"), lambda name: FakeStack(), eks, NOW)
    eks.done()  # no node group, add-on or control-plane call was made
    assert result.exit_code == ExitCode.FAILED
    assert result.error is not None
    assert "insight Deprecated APIs in use is ERROR" in result.error
    assert "Nothing was changed" in result.error
    assert "--force" in result.error


@pytest.mark.parametrize("status", ["UNKNOWN", "WARNING"])
def test_unknown_and_warning_insights_do_not_block_a_rollback(status: str) -> None:
    # rollback-cluster.adoc: "Only insights with ERROR status block the rollback."
    eks = Eks()
    stub = queue_rollback_history(eks, NOW - dt.timedelta(days=2))
    queue_readiness(stub, status, name="Deprecated APIs in use")
    queue_nodes_back(stub)
    stub.add_response("list_addons", {"addons": []}, {"clusterName": "prod-eu"})
    queue_readiness(stub, "ERROR", name="Kubelet version skew")  # after the nodes moved, skew counts
    result = rollback("prod", "prod-eu", spec_at("1.35"), lambda name: FakeStack(), eks, NOW, lambda _: None)
    eks.done()
    assert result.error is not None
    assert f"readiness: insight Deprecated APIs in use is {status}: a kubelet is at 1.35" in result.steps
    assert "with its nodes and add-ons at 1.34: insight Kubelet version skew is ERROR" in result.error
    assert "run the rollback again (it goes on from here)" in result.error
    assert not any(step.startswith("control plane") for step in result.steps)


def test_an_eks_refusal_is_reported_with_what_was_done_not_a_traceback() -> None:
    eks = Eks()
    stub = queue_rollback_history(eks, NOW - dt.timedelta(days=2))
    queue_readiness(stub)
    queue_group_at(stub, "1.35")
    stub.add_client_error(
        "update_nodegroup_version",
        service_error_code="ResourceInUseException",
        service_message="Nodegroup cannot be updated as it is currently not in Active State",
        http_status_code=409,
    )
    stacks: dict[str, FakeStack] = {}
    result = rollback("prod", "prod-eu", spec_at("1.35"), lambda name: stacks.setdefault(name, FakeStack()), eks, NOW)
    assert result.exit_code == ExitCode.FAILED
    assert result.error == (
        "EKS refused UpdateNodegroupVersion: Nodegroup cannot be updated as it is currently not in Active State"
    )
    assert stacks == {}  # the config still says what runs


def test_rollback_outside_the_window_is_refused_with_the_reason() -> None:
    eks = Eks()
    queue_rollback_history(eks, NOW - dt.timedelta(days=8))
    result = rollback("prod", "prod-eu", spec_at("1.35"), lambda name: FakeStack(), eks, NOW)
    assert result.exit_code == ExitCode.FAILED
    assert result.error is not None
    assert "EKS rolls back only within 7 days of an in-place upgrade" in result.error


def test_rollback_into_extended_support_needs_the_extended_support_type() -> None:
    eks = Eks()
    queue_rollback_history(eks, NOW - dt.timedelta(days=1))
    result = rollback("prod", "prod-eu", spec_at("1.35", support="STANDARD"), lambda name: FakeStack(), eks, NOW)
    assert result.error is not None
    assert "1.34 left standard support on 2026-12-02" in result.error
    assert "supportType: EXTENDED" in result.error


@pytest.mark.parametrize("argv", [["upgrade", "--help"], ["rollback", "--help"]])
def test_the_commands_are_reachable_from_python_m_deploy(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    from deploy.__main__ import main

    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 0
    assert "--stack" in capsys.readouterr().out


def test_after_the_last_wave_each_stack_names_the_target_once() -> None:
    # Issue 34, defect 7: after a campaign fleet:kubernetesVersion still named the old minor, so the
    # stack file said two versions and a cluster added later started at the old one.
    from deploy.upgrade import UpgradeSummary, _settle_defaults

    stacks: dict[str, FakeStack] = {}
    built = runner(spec_at("1.34"), Eks(), FakeKubectl(), stacks, [])
    summary = UpgradeSummary("prod", "1.35")
    _settle_defaults(built, "prod", "1.35", summary)
    assert stacks["prod"].config[0] == ("fleet:kubernetesVersion", "1.35", False)
    assert sorted(stacks["prod"].config[1:]) == [(f"fleet:clusters[{i}].kubernetesVersion", "(removed)", True) for i in range(3)]
    assert "staging" not in stacks  # its default already names 1.35
    assert summary.done == ["prod: fleet:kubernetesVersion = 1.35"]


def test_a_resumed_campaign_removes_the_versions_earlier_runs_wrote() -> None:
    # Review of #34: resumed after approval, the spec re-read prod-eu's 1.35 (written by wave 1) as its
    # own, and the file kept naming the version twice.
    from deploy.upgrade import UpgradeSummary, _settle_defaults

    raw = raw_prod()
    raw["kubernetesVersion"] = "1.34"
    raw["clusters"][2]["kubernetesVersion"] = "1.35"
    spec = hub_stack.with_hub_stack(load_fleet(raw), fleet_hub_project(), stack="prod")
    stacks: dict[str, FakeStack] = {}
    _settle_defaults(runner(spec, Eks(), FakeKubectl(), stacks, []), "prod", "1.35", UpgradeSummary("prod", "1.35"))
    assert ("fleet:clusters[2].kubernetesVersion", "(removed)", True) in stacks["prod"].config


def test_in_an_environment_of_cells_a_wave_is_its_clusters_cells() -> None:
    """fleet:cells: the wave's cluster moves through its own cell's up, the version written into the
    environment's file through that cell (deploy/upgrade.py CellConfig), never through the environment's stack."""
    eks, kubectl = Eks(), FakeKubectl()
    stacks: dict[str, FakeStack] = {}
    ups: list[str] = []
    queue_wave_eu(eks)
    built = runner(spec_at("1.34"), eks, kubectl, stacks, ups)
    built.celled = lambda environment: environment == "prod"
    summary = run_campaign("prod", built)
    eks.done()
    assert summary.done == ["eu: 1.34 -> 1.35"]
    assert ups == ["prod.prod-eu"]
    assert stacks["prod.prod-eu"].config == [("fleet:clusters[2].kubernetesVersion", "1.35", True)]
    assert "prod" not in stacks


def test_a_cell_writes_its_config_into_its_environments_file(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from deploy import upgrade

    calls: list[list[str]] = []

    def fake_run(command: list[str], **kwargs: Any) -> Any:
        calls.append(command)
        return type("Done", (), {"returncode": 0, "stdout": "", "stderr": ""})()

    monkeypatch.setattr("deploy.upgrade.subprocess.run", fake_run)
    written = upgrade.CellConfig("prod.prod-eu", tmp_path / "Pulumi.prod.yaml")
    written.set_config("fleet:clusters[2].kubernetesVersion", auto.ConfigValue("1.35"), path=True)
    written.remove_config("fleet:clusters[2].kubernetesVersion", path=True)
    file = str(tmp_path / "Pulumi.prod.yaml")
    assert calls == [
        [
            "pulumi",
            "config",
            "set",
            "--path",
            "fleet:clusters[2].kubernetesVersion",
            "1.35",
            "--plaintext",
            "--stack",
            "prod.prod-eu",
            "--config-file",
            file,
        ],
        [
            "pulumi",
            "config",
            "rm",
            "--path",
            "fleet:clusters[2].kubernetesVersion",
            "--stack",
            "prod.prod-eu",
            "--config-file",
            file,
        ],
    ]
