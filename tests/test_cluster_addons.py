"""Nodes that scale, GPUs that work, storage that exists, metrics that HPAs read: every prod cluster's add-ons."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.planning import autoscaling
from components.planning.autoscaling import PodNeeds, Toleration, fits, node_template
from components.planning.checks import load_fleet
from offline import charts
from offline.harness import Run, run_stack
from tests.charts_under_test import release_of
from tests.config_cases import problems_after, raw_prod

CLUSTERS = {"mgmt": "us-east-1", "prod-us": "us-east-1", "prod-eu": "eu-west-1"}


def _rendered(run: Run, name: str) -> list[dict[str, Any]]:
    return charts.render(release_of(run, run.named(name)))


# ---------------------------------------------------------------- autoscaling


@pytest.mark.parametrize("cluster", list(CLUSTERS))
def test_every_cluster_has_an_autoscaler_that_can_only_touch_its_own_groups(fleet: Run, cluster: str) -> None:
    release = fleet.named(f"{cluster}-addons-autoscaler")
    assert fleet.registrations[release.provider_urn].name == f"{cluster}-k8s"
    role = fleet.named(f"{cluster}-addons-autoscaler-role")
    # Pod Identity (fleet:workloadIdentity's default): the association names the role, the trust this
    # cluster's kube-system/cluster-autoscaler only (tests/test_workload_identity.py covers IRSA).
    association = fleet.named(f"{cluster}-addons-autoscaler-identity").inputs
    assert (association["clusterName"], association["namespace"], association["serviceAccount"]) == (
        cluster,
        "kube-system",
        "cluster-autoscaler",
    )
    assert association["roleArn"] == role.outputs["arn"]
    assert release.inputs["values"]["rbac"]["serviceAccount"]["annotations"] == {}
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]
    assert trust["Condition"]["StringEquals"] == {
        "aws:RequestTag/eks-cluster-arn": f"arn:aws:eks:{CLUSTERS[cluster]}:123456789012:cluster/{cluster}",
        "aws:RequestTag/eks-cluster-name": cluster,
        "aws:RequestTag/kubernetes-namespace": "kube-system",
        "aws:RequestTag/kubernetes-service-account": "cluster-autoscaler",
    }
    statements = {
        s["Sid"]: s for s in json.loads(fleet.named(f"{cluster}-addons-autoscaler-policy").inputs["policy"])["Statement"]
    }
    writes = [s for s in statements.values() if any(not a.split(":")[1].startswith(("Describe", "Get")) for a in s["Action"])]
    assert [s["Sid"] for s in writes] == ["ScaleOwnGroups"]
    # EKS tags each managed node group's Auto Scaling group k8s.io/cluster-autoscaler/<cluster>: owned.
    assert writes[0]["Condition"] == {"StringEquals": {f"aws:ResourceTag/k8s.io/cluster-autoscaler/{cluster}": "owned"}}
    assert statements["ReadOwnNodeGroups"]["Resource"] == f"arn:aws:eks:{CLUSTERS[cluster]}:*:nodegroup/{cluster}/*/*"


def test_the_autoscaler_discovers_this_clusters_groups_with_a_matching_image(fleet: Run) -> None:
    (deployment,) = [o for o in _rendered(fleet, "prod-eu-addons-autoscaler") if o["kind"] == "Deployment"]
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    args = container["command"] + container.get("args", [])
    assert "--node-group-auto-discovery=asg:tag=k8s.io/cluster-autoscaler/enabled,k8s.io/cluster-autoscaler/prod-eu" in args
    assert "--balance-similar-node-groups=true" in args
    assert "--expander=least-waste" in args
    assert container["image"].endswith(":v1.35.0"), "the image's minor version must be the cluster's"
    assert {"name": "AWS_REGION", "value": "eu-west-1"} in container["env"]


def test_node_groups_keep_min_and_max_and_leave_the_running_size_to_the_autoscaler(fleet: Run) -> None:
    group = fleet.named("prod-us-gpu")
    assert group.inputs["scalingConfig"] == {"minSize": 0, "maxSize": 4, "desiredSize": 0}
    assert group.inputs["ignoreScalingChanges"] is True


def _spec_group(name: str, cluster: str = "prod-us") -> Any:
    spec = load_fleet(raw_prod())
    (found,) = [g for c in spec.clusters if c.name == cluster for g in c.node_groups if g.name == name]
    return found


def test_a_gpu_group_at_min_zero_is_eligible_to_scale_from_zero(fleet: Run) -> None:
    group = _spec_group("gpu")
    assert group.min_size == 0
    template = node_template(group)
    # What EKS will answer to eks:DescribeNodegroup is what the program registered.
    registered = fleet.named("prod-us-gpu").inputs
    assert {k: v for k, v in template.labels.items() if k != autoscaling.CAPACITY_TYPE_LABEL} == registered["labels"]
    assert [(t.key, t.value, t.effect.eks_value) for t in template.taints] == [
        (t["key"], t["value"], t["effect"]) for t in registered["taints"]
    ]
    gpu_job = PodNeeds(
        node_selector={"workload": "gpu"},
        tolerations=[Toleration(key="nvidia.com/gpu", operator="Exists", effect="NoSchedule")],
        gpus=1,
    )
    assert fits(gpu_job, template)
    # Without the toleration, or asking for more GPUs than the instance has, nothing scales up.
    assert not fits(PodNeeds(node_selector={"workload": "gpu"}, gpus=1), template)
    assert not fits(PodNeeds(tolerations=gpu_job.tolerations, gpus=2), template)
    # Ordinary pods never pull a GPU node up.
    assert not fits(PodNeeds(), template)


def test_gpu_groups_carry_the_accelerator_label_the_autoscaler_reads(fleet: Run) -> None:
    labels = fleet.named("prod-us-gpu").inputs["labels"]
    assert labels[autoscaling.ACCELERATOR_LABEL] == "nvidia-g6"
    assert autoscaling.ACCELERATOR_LABEL not in fleet.named("prod-us-general-use1-az1").inputs["labels"]


def test_a_spot_group_at_min_zero_scales_from_zero_for_its_pods() -> None:
    group = _spec_group("arm")
    assert (group.min_size, group.capacity_type.value) == (0, "SPOT")
    template = node_template(group)
    assert template.labels[autoscaling.CAPACITY_TYPE_LABEL] == "SPOT"
    assert fits(PodNeeds(node_selector={"workload": "arm", "eks.amazonaws.com/capacityType": "SPOT"}), template)


def test_gpu_counts_follow_the_instance_size() -> None:
    assert autoscaling.gpus_per_instance("g6.xlarge") == 1
    assert autoscaling.gpus_per_instance("g6.12xlarge") == 4
    assert autoscaling.gpus_per_instance("p5.48xlarge") == 8
    assert autoscaling.gpus_per_instance("p6-b200.48xlarge") == 8


def test_autoscaler_off_for_one_cluster() -> None:
    run = run_stack("fleet", mutate=lambda c: c["fleet:clusters"][2].update(addons={"autoscaler": False}))
    assert not [r for r in run.registrations.values() if r.name.startswith("prod-eu-addons-autoscaler")]
    assert run.named("prod-us-addons-autoscaler")


# ---------------------------------------------------------------- GPUs


def test_only_gpu_clusters_run_the_device_plugin(fleet: Run) -> None:
    assert fleet.named("prod-us-addons-nvidia").inputs["chart"] == "nvidia-device-plugin"
    assert not [r for r in fleet.registrations.values() if r.name in ("mgmt-addons-nvidia", "prod-eu-addons-nvidia")]


def _needs(pod: dict[str, Any]) -> PodNeeds:
    (term,) = pod["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    selector = {e["key"]: e["values"][0] for e in term["matchExpressions"] if e["operator"] == "In"}
    selector |= pod.get("nodeSelector") or {}
    tolerations = [
        Toleration(t["key"], t.get("operator", "Equal"), t.get("value", ""), t.get("effect", "")) for t in pod["tolerations"]
    ]
    return PodNeeds(node_selector=selector, tolerations=tolerations)


def test_the_device_plugin_lands_on_gpu_nodes_only_and_tolerates_their_taint(fleet: Run) -> None:
    daemonsets = {o["metadata"]["name"]: o for o in _rendered(fleet, "prod-us-addons-nvidia") if o["kind"] == "DaemonSet"}
    spec = load_fleet(raw_prod())
    groups = [(c.name, g) for c in spec.clusters for g in c.node_groups]
    plugin = _needs(daemonsets["nvidia-device-plugin"]["spec"]["template"]["spec"])
    for cluster, group in groups:
        # On every GPU group (tainted), on no other group.
        assert fits(plugin, node_template(group)) is group.ami_type.is_gpu, f"{cluster}/{group.name}"
    # The chart's MPS daemon also renders; it needs an MPS-configured GPU node, so it runs on none of ours.
    mps = _needs(daemonsets["nvidia-device-plugin-mps-control-daemon"]["spec"]["template"]["spec"])
    assert not any(fits(mps, node_template(group)) for _, group in groups)


def test_gpu_plugin_asked_for_without_gpu_nodes_is_a_config_error() -> None:
    problems = problems_after(lambda raw: raw["clusters"][0].update(addons={"gpu": True}))
    assert problems == [
        "fleet:clusters[0].addons.gpu: mgmt has no GPU node group for the NVIDIA device plugin to run on; "
        "add one (e.g. g6.xlarge) or leave gpu unset"
    ]


# ---------------------------------------------------------------- storage and metrics


@pytest.mark.parametrize("cluster", list(CLUSTERS))
def test_every_cluster_has_the_ebs_csi_addon_with_its_own_role_and_a_default_encrypted_gp3_class(
    fleet: Run, cluster: str
) -> None:
    addon = fleet.named(f"{cluster}-addons-ebs-csi").inputs
    role = fleet.named(f"{cluster}-addons-ebs-csi-role")
    assert (addon["addonName"], addon["clusterName"]) == ("aws-ebs-csi-driver", cluster)
    assert addon["serviceAccountRoleArn"] == role.outputs["arn"]
    assert addon["podIdentityAssociations"] == [{"roleArn": role.outputs["arn"], "serviceAccount": "ebs-csi-controller-sa"}]
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]["Condition"]["StringEquals"]
    assert trust["aws:RequestTag/kubernetes-service-account"] == "ebs-csi-controller-sa"
    attachment = fleet.named(f"{cluster}-addons-ebs-csi-policy").inputs
    assert attachment["policyArn"] == "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"
    storage_class = fleet.named(f"{cluster}-addons-gp3").inputs
    assert storage_class["metadata"]["annotations"] == {"storageclass.kubernetes.io/is-default-class": "true"}
    assert storage_class["provisioner"] == "ebs.csi.aws.com"
    assert storage_class["parameters"] == {"type": "gp3", "encrypted": "true"}
    assert storage_class["volumeBindingMode"] == "WaitForFirstConsumer"
    assert fleet.named(f"{cluster}-addons-ebs-csi").urn in fleet.depends_on(fleet.named(f"{cluster}-addons-gp3"))


def test_nodes_keep_imds_hop_limit_one_with_the_ebs_driver(fleet: Run) -> None:
    # The node plugin reads its instance's identity from the Kubernetes API when IMDS is out of a
    # pod's reach (kubernetes-sigs/aws-ebs-csi-driver#1060); the controller gets its region from IRSA.
    templates = [r for r in fleet.of_type("aws:ec2/launchTemplate:LaunchTemplate")]
    assert templates
    assert all(t.inputs["metadataOptions"]["httpPutResponseHopLimit"] == 1 for t in templates)


def test_a_customer_managed_key_for_volumes() -> None:
    key = "arn:aws:kms:us-east-1:123456789012:key/0f0e0d0c-0b0a-0908-0706-050403020100"
    run = run_stack("fleet", mutate=lambda c: c.update({"fleet:addons": {"storageKmsKeyArn": key}}))
    assert run.named("prod-us-addons-gp3").inputs["parameters"]["kmsKeyId"] == key
    policy = json.loads(run.named("prod-us-addons-ebs-csi-kms").inputs["policy"])
    assert {s["Resource"] for s in policy["Statement"]} == {key}
    grant = next(s for s in policy["Statement"] if "kms:CreateGrant" in s["Action"])
    assert grant["Condition"] == {"Bool": {"kms:GrantIsForAWSResource": "true"}}


def test_a_bad_key_arn_is_a_config_error() -> None:
    problems = problems_after(lambda raw: raw.update(addons={"storageKmsKeyArn": "alias/aws/ebs"}))
    assert problems[0].startswith("fleet:addons.storageKmsKeyArn: 'alias/aws/ebs' is not a KMS key ARN")


@pytest.mark.parametrize("cluster", list(CLUSTERS))
def test_every_cluster_has_metrics_server(fleet: Run, cluster: str) -> None:
    addon = fleet.named(f"{cluster}-addons-metrics-server")
    assert addon.inputs["addonName"] == "metrics-server"
    # Unpinned: EKS's default build for the cluster's minor (the mocked DescribeAddonVersions answers per
    # minor), not held, so an upgrade moves it with the cluster.
    assert addon.ignore_changes == []
    assert addon.inputs["addonVersion"] == "v0.0.0-metrics-server-1.35-default-eksbuild.1"  # EKS's default, not the newest


def test_pinned_addon_versions_are_used_and_followed() -> None:
    run = run_stack("fleet", mutate=lambda c: c.update({"fleet:addons": {"ebsCsiVersion": "v1.50.0-eksbuild.1"}}))
    addon = run.named("prod-us-addons-ebs-csi")
    assert addon.inputs["addonVersion"] == "v1.50.0-eksbuild.1"
    assert addon.ignore_changes == []


def test_addons_wait_for_nodes(fleet: Run) -> None:
    for name in ("prod-us-addons-ebs-csi", "prod-us-addons-metrics-server"):
        waits = {fleet.registrations[u].name for u in fleet.depends_on(fleet.named(name))}
        assert {
            "prod-us-general-use1-az1",
            "prod-us-general-use1-az2",
            "prod-us-general-use1-az4",
            "prod-us-gpu",
            "prod-us-arm",
        } <= waits
