"""Every validation rule of the fleet config, one test each, with the message checked.

Each test starts from the real Pulumi.prod.yaml (plus Pulumi.yaml defaults) and breaks one
thing, so a rule that stopped firing, or fired on the reference stack, fails here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from components.config.errors import ConfigError
from components.config.model import FleetSpec
from components.planning.checks import load_fleet
from offline.harness import run_stack
from tests.config_cases import problems_after, raw_prod


def only_problem(change: Callable[[dict[str, Any]], None]) -> str:
    problems = problems_after(change)
    assert len(problems) == 1, problems
    return problems[0]


def cluster(raw: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in raw["clusters"] if c["name"] == name)


def without_submariner(change: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    """``change`` applied to the prod config minus fleet:submariner, to test a foundation rule on its own."""

    def apply(raw: dict[str, Any]) -> None:
        raw.pop("submariner")
        change(raw)

    return apply


def test_reference_stack_is_valid() -> None:
    spec = load_fleet(raw_prod())
    assert isinstance(spec, FleetSpec)
    assert [c.name for c in spec.clusters] == ["mgmt", "prod-us", "prod-eu"]


# ---------------------------------------------------------------- unknown keys


def test_unknown_top_level_key_is_an_error_with_a_suggestion() -> None:
    message = only_problem(lambda raw: raw.update(clusterAdmin=[]))
    assert message == "fleet:clusterAdmin: unknown key; did you mean 'clusterAdmins'?"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda raw: raw.update(version="1.35"), "fleet:version: unknown key; did you mean 'kubernetesVersion'?"),
        (
            lambda raw: raw["clusters"][0].update(version="1.35"),
            "fleet:clusters[0].version: unknown key; did you mean 'kubernetesVersion'?",
        ),
        (
            lambda raw: raw["submariner"].update(gatewaysPerClsuter=1),
            "fleet:submariner.gatewaysPerClsuter: unknown key; did you mean 'gatewaysPerCluster'?",
        ),
        (
            lambda raw: raw["quotas"].update(regions={"us-east-1": {"elasticIp": 9}}),
            "fleet:quotas.regions.us-east-1.elasticIp: unknown key; did you mean 'elasticIps'?",
        ),
    ],
)
def test_suggestions_come_from_the_keys_valid_at_that_path(change: Callable[[dict[str, Any]], None], expected: str) -> None:
    # `version` once drew pskVersion, a key of another section.
    assert problems_after(change) == [expected]


def test_shape_errors_do_not_hide_sizes_or_routing_or_references() -> None:
    def many(raw: dict[str, Any]) -> None:
        raw["protect"] = "maybe"
        raw["clusters"][0]["nodeGroups"][0].update(minSize=5, maxSize=2, capacityType="X")
        raw["clusters"][2]["vpcCidr"] = "bogus"
        record = raw["dns"]["records"][0]
        record.update(ttl=5, primary="prod-us", weights={**record["weights"], "nope": 1})

    problems = problems_after(many)
    assert "fleet:clusters[0].nodeGroups[0]: sizes must satisfy minSize <= desiredSize <= maxSize, got 5 <= 3 <= 2" in problems
    assert "fleet:dns.records[0]: primary is not used by weighted routing" in problems
    assert "fleet:dns.records[0].weights.nope: no cluster named 'nope' in fleet:clusters" in problems
    assert len(problems) == len(set(problems)) == 7, problems


def test_a_disabled_section_validates_nothing_else() -> None:
    raw = raw_prod()
    raw["argocd"] = {"enabled": False}
    raw["submariner"] = {"enabled": False, "gatewaysPerCluster": 99}
    spec = load_fleet(raw)
    assert spec.gitops is None
    assert spec.clusterset is None


def test_mistyped_cluster_key_is_an_error_not_ignored() -> None:
    def typo(raw: dict[str, Any]) -> None:
        c = cluster(raw, "prod-eu")
        c["vpcCIDR"] = c.pop("vpcCidr")

    problems = problems_after(typo)
    assert "fleet:clusters[2].vpcCIDR: unknown key; did you mean 'vpcCidr'?" in problems
    assert "fleet:clusters[2].vpcCidr: is required" in problems


def test_unknown_node_group_key_is_an_error() -> None:
    message = only_problem(lambda raw: cluster(raw, "mgmt")["nodeGroups"][0].update(instanceType="m7g.large"))
    assert message == "fleet:clusters[0].nodeGroups[0].instanceType: unknown key; did you mean 'instanceTypes'?"


# ---------------------------------------------------------------- names, regions, roles, versions


@pytest.mark.parametrize("bad", ["Prod-EU", "prod_eu", "-prod", "prod-", "a" * 64])
def test_cluster_name_must_be_a_dns_label(bad: str) -> None:
    message = only_problem(lambda raw: cluster(raw, "prod-eu").update(name=bad))
    assert message.startswith("fleet:clusters[2].name: ")
    assert repr(bad) in message


def test_cluster_names_are_unique() -> None:
    problems = problems_after(lambda raw: cluster(raw, "mgmt").update(name="prod-us"))
    assert problems == [
        "fleet:clusters[1].name: 'prod-us' is already the name of fleet:clusters[0]",
        # Renaming mgmt also leaves fleet:submariner naming a cluster that is gone.
        "fleet:submariner.broker: no cluster named 'mgmt' in fleet:clusters",
        "fleet:submariner.clusters[0]: no cluster named 'mgmt' in fleet:clusters",
    ]


@pytest.mark.parametrize("bad", ["us-east", "useast-1", "US-EAST-1", "us-east-1a"])
def test_region_must_be_an_aws_region_code(bad: str) -> None:
    message = only_problem(lambda raw: cluster(raw, "prod-us").update(region=bad))
    assert message == f"fleet:clusters[1].region: {bad!r} is not an AWS region code (e.g. us-east-1, eu-west-1)"


def test_role_must_be_hub_or_member() -> None:
    message = only_problem(lambda raw: cluster(raw, "prod-us").update(role="spoke"))
    assert message == "fleet:clusters[1].role: Input should be 'hub' or 'member' (got 'spoke')"


def test_at_most_one_hub() -> None:
    message = only_problem(lambda raw: cluster(raw, "prod-eu").update(role="hub"))
    assert message == "fleet:clusters[2].role: fleet:clusters[0] (mgmt) is already the hub; a fleet has at most one"


def test_role_defaults_to_member() -> None:
    spec = load_fleet(raw_prod())
    assert [c.role for c in spec.clusters] == ["hub", "member", "member"]


@pytest.mark.parametrize("bad", ["1.3x", "v1.35", "1", "1.35.2"])
def test_version_format(bad: str) -> None:
    message = only_problem(lambda raw: cluster(raw, "prod-us").update(kubernetesVersion=bad))
    assert message == f'fleet:clusters[1].kubernetesVersion: {bad!r} is not a Kubernetes minor version such as "1.35"'


def test_unquoted_version_number_explains_the_yaml_pitfall() -> None:
    message = only_problem(lambda raw: raw.update(kubernetesVersion=1.3))
    assert message == 'fleet:kubernetesVersion: 1.3 is a number; quote the version, e.g. "1.35"'


def test_version_must_be_one_eks_offers() -> None:
    message = only_problem(lambda raw: cluster(raw, "mgmt").update(kubernetesVersion="1.28"))
    assert message.startswith("fleet:clusters[0].kubernetesVersion: '1.28' is not a version EKS offers here")
    assert "1.35" in message


# ---------------------------------------------------------------- CIDRs


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ("10.40.0.0", "'10.40.0.0' is not a CIDR block (expected a.b.c.d/n)"),
        ("10.40.0.0/33", "'10.40.0.0/33' has an invalid prefix length"),
        ("10.400.0.0/16", "'10.400.0.0/16' is not a valid IPv4 CIDR block"),
        ("10.40.0.1/16", "'10.40.0.1/16' has host bits set; did you mean 10.40.0.0/16?"),
    ],
)
def test_cidr_syntax(bad: str, reason: str) -> None:
    message = only_problem(lambda raw: cluster(raw, "prod-eu").update(vpcCidr=bad))
    assert message == f"fleet:clusters[2].vpcCidr: {reason}"


def test_vpc_cidr_must_be_private() -> None:
    message = only_problem(lambda raw: cluster(raw, "prod-eu").update(vpcCidr="100.64.0.0/16"))
    assert message == "fleet:clusters[2].vpcCidr: 100.64.0.0/16 is not a private (RFC 1918) range"


def test_service_cidr_must_be_private() -> None:
    message = only_problem(lambda raw: cluster(raw, "prod-eu").update(serviceCidr="8.8.0.0/16"))
    assert message == "fleet:clusters[2].serviceCidr: 8.8.0.0/16 is not a private (RFC 1918) range"


@pytest.mark.parametrize("bad", ["10.0.0.0/8", "10.30.0.0/21"])
def test_vpc_cidr_size(bad: str) -> None:
    message = only_problem(lambda raw: cluster(raw, "prod-eu").update(vpcCidr=bad))
    assert message == f"fleet:clusters[2].vpcCidr: {bad} must be between /16 and /20"


@pytest.mark.parametrize("bad", ["172.0.0.0/11", "172.22.0.0/25"])
def test_service_cidr_size(bad: str) -> None:
    problems = problems_after(lambda raw: cluster(raw, "prod-eu").update(serviceCidr=bad))
    assert f"fleet:clusters[2].serviceCidr: {bad} must be between /12 and /24" in problems


def test_vpc_ranges_must_not_overlap_across_the_fleet() -> None:
    message = only_problem(lambda raw: cluster(raw, "prod-eu").update(vpcCidr="10.20.0.0/16"))
    assert message.startswith("fleet:clusters[2].vpcCidr: 10.20.0.0/16 overlaps fleet:clusters[1].vpcCidr")


def test_partial_overlap_is_caught() -> None:
    message = only_problem(without_submariner(lambda raw: cluster(raw, "prod-eu").update(vpcCidr="10.20.128.0/17")))
    assert message == "fleet:clusters[2].vpcCidr: 10.20.128.0/17 overlaps fleet:clusters[1].vpcCidr (10.20.0.0/16)"


def test_service_ranges_must_not_overlap_across_the_fleet() -> None:
    message = only_problem(without_submariner(lambda raw: cluster(raw, "prod-eu").update(serviceCidr="172.20.0.0/16")))
    assert message == "fleet:clusters[2].serviceCidr: 172.20.0.0/16 overlaps fleet:clusters[0].serviceCidr (172.20.0.0/16)"


def test_service_range_must_not_overlap_another_clusters_vpc() -> None:
    message = only_problem(without_submariner(lambda raw: cluster(raw, "prod-eu").update(serviceCidr="10.10.0.0/20")))
    assert message == "fleet:clusters[2].serviceCidr: 10.10.0.0/20 overlaps fleet:clusters[0].vpcCidr (10.10.0.0/16)"


def test_service_range_must_not_overlap_its_own_vpc() -> None:
    message = only_problem(lambda raw: cluster(raw, "prod-eu").update(serviceCidr="10.30.0.0/20"))
    assert message == "fleet:clusters[2]: serviceCidr 10.30.0.0/20 overlaps this cluster's vpcCidr 10.30.0.0/16"


def test_every_overlapping_pair_is_reported() -> None:
    def collide(raw: dict[str, Any]) -> None:
        raw.pop("submariner")
        cluster(raw, "prod-us").update(vpcCidr="10.10.0.0/16")
        cluster(raw, "prod-eu").update(vpcCidr="10.10.0.0/17")

    problems = problems_after(collide)
    assert problems == [
        "fleet:clusters[1].vpcCidr: 10.10.0.0/16 overlaps fleet:clusters[0].vpcCidr (10.10.0.0/16)",
        "fleet:clusters[2].vpcCidr: 10.10.0.0/17 overlaps fleet:clusters[0].vpcCidr (10.10.0.0/16)",
        "fleet:clusters[2].vpcCidr: 10.10.0.0/17 overlaps fleet:clusters[1].vpcCidr (10.10.0.0/16)",
    ]


@pytest.mark.parametrize("bad", ["0.0.0.0/0", "not-a-cidr"])
def test_api_access_cidrs(bad: str) -> None:
    message = only_problem(lambda raw: raw.update(apiAccessCidrs=["198.51.100.0/24", bad]))
    assert message.startswith("fleet:apiAccessCidrs[1]: ")
    assert "whole internet" in message or "is not a CIDR block" in message


def test_api_access_cidrs_must_be_stated() -> None:
    message = only_problem(lambda raw: raw.pop("apiAccessCidrs"))
    assert message == "fleet:apiAccessCidrs: is required"


# ---------------------------------------------------------------- AZs, node groups, labels, taints


@pytest.mark.parametrize("bad", [1, 7])
def test_availability_zone_count(bad: int) -> None:
    message = only_problem(lambda raw: cluster(raw, "mgmt").update(availabilityZones=bad))
    assert message.startswith("fleet:clusters[0].availabilityZones: Input should be")
    assert f"(got {bad})" in message


def test_cluster_needs_a_node_group() -> None:
    message = only_problem(lambda raw: cluster(raw, "mgmt").update(nodeGroups=[]))
    assert message.startswith("fleet:clusters[0].nodeGroups: List should have at least 1 item")


def test_fleet_needs_a_cluster() -> None:
    message = only_problem(lambda raw: raw.update(clusters=[]))
    assert message.startswith("fleet:clusters: List should have at least 1 item")


@pytest.mark.parametrize(
    ("sizes", "expected"),
    [
        ({"minSize": 3, "desiredSize": 2, "maxSize": 4}, "got 3 <= 2 <= 4"),
        ({"minSize": 1, "desiredSize": 5, "maxSize": 4}, "got 1 <= 5 <= 4"),
    ],
)
def test_node_group_sizes_are_ordered(sizes: dict[str, int], expected: str) -> None:
    message = only_problem(lambda raw: cluster(raw, "mgmt")["nodeGroups"][0].update(sizes))
    assert message == f"fleet:clusters[0].nodeGroups[0]: sizes must satisfy minSize <= desiredSize <= maxSize, {expected}"


def test_node_group_max_size_is_at_least_one() -> None:
    problems = problems_after(lambda raw: cluster(raw, "mgmt")["nodeGroups"][0].update(minSize=0, desiredSize=0, maxSize=0))
    assert problems == ["fleet:clusters[0].nodeGroups[0].maxSize: Input should be greater than or equal to 1 (got 0)"]


def test_node_group_instance_types_not_empty() -> None:
    message = only_problem(lambda raw: cluster(raw, "mgmt")["nodeGroups"][0].update(instanceTypes=[]))
    assert message.startswith("fleet:clusters[0].nodeGroups[0].instanceTypes: List should have at least 1 item")


def test_node_group_instance_type_syntax() -> None:
    message = only_problem(lambda raw: cluster(raw, "mgmt")["nodeGroups"][0].update(instanceTypes=["large"]))
    where = "fleet:clusters[0].nodeGroups[0].instanceTypes[0]"
    assert message == f"{where}: 'large' is not an EC2 instance type (e.g. m7g.large, p6-b200.48xlarge)"


def test_node_group_cannot_mix_architectures() -> None:
    message = only_problem(lambda raw: cluster(raw, "mgmt")["nodeGroups"][0].update(instanceTypes=["m7g.large", "m7i.large"]))
    assert message.startswith("fleet:clusters[0].nodeGroups[0]: instanceTypes mix architectures or accelerators")
    assert "m7g.large (AL2023_ARM_64_STANDARD)" in message
    assert "m7i.large (AL2023_x86_64_STANDARD)" in message


def test_node_group_names_unique_within_cluster() -> None:
    message = only_problem(lambda raw: cluster(raw, "prod-us")["nodeGroups"][1].update(name="general"))
    assert message == "fleet:clusters[1].nodeGroups[1].name: 'general' is already the name of fleet:clusters[1].nodeGroups[0]"


def test_node_group_name_is_a_dns_label() -> None:
    message = only_problem(lambda raw: cluster(raw, "prod-us")["nodeGroups"][1].update(name="GPU_nodes"))
    assert message.startswith("fleet:clusters[1].nodeGroups[1].name: 'GPU_nodes' is not a DNS-1123 label")


def test_capacity_type() -> None:
    message = only_problem(lambda raw: cluster(raw, "prod-us")["nodeGroups"][1].update(capacityType="spot"))
    assert message == "fleet:clusters[1].nodeGroups[1].capacityType: Input should be 'ON_DEMAND' or 'SPOT' (got 'spot')"


def test_taint_effect() -> None:
    message = only_problem(lambda raw: cluster(raw, "prod-us")["nodeGroups"][2]["taints"][0].update(effect="NO_SCHEDULE"))
    assert message == (
        "fleet:clusters[1].nodeGroups[2].taints[0].effect: "
        "Input should be 'NoSchedule', 'PreferNoSchedule' or 'NoExecute' (got 'NO_SCHEDULE')"
    )


def test_taint_key_syntax() -> None:
    message = only_problem(lambda raw: cluster(raw, "prod-us")["nodeGroups"][2]["taints"][0].update(key="nvidia.com/"))
    assert message.startswith("fleet:clusters[1].nodeGroups[2].taints[0].key: label key 'nvidia.com/' must be")


@pytest.mark.parametrize("bad_key", ["bad key", "-lead", "UPPER.example.com/x", "/name", "a" * 64])
def test_cluster_label_key_syntax(bad_key: str) -> None:
    message = only_problem(lambda raw: cluster(raw, "prod-eu")["labels"].update({bad_key: "x"}))
    assert message.startswith(f"fleet:clusters[2].labels: label key {bad_key!r}")


@pytest.mark.parametrize("bad_value", ["has space", "-lead", "trail-", "x" * 64, "https://example.com"])
def test_cluster_label_value_syntax(bad_value: str) -> None:
    message = only_problem(lambda raw: cluster(raw, "prod-eu")["labels"].update(team=bad_value))
    assert message.startswith(f"fleet:clusters[2].labels: label value {bad_value!r} must be")


def test_node_group_label_syntax() -> None:
    message = only_problem(lambda raw: cluster(raw, "prod-us")["nodeGroups"][1]["labels"].update({"workload": "a b"}))
    assert message.startswith("fleet:clusters[1].nodeGroups[1].labels: label value 'a b' must be")


def test_valid_label_forms_are_accepted() -> None:
    raw = raw_prod()
    cluster(raw, "prod-eu")["labels"].update({"topology.kubernetes.io/region": "eu-west-1", "empty": "", "A_b.c": "X_y.Z"})
    load_fleet(raw)


def test_cluster_admin_must_be_an_iam_principal_arn() -> None:
    message = only_problem(lambda raw: raw.update(clusterAdmins=["arn:aws:iam::123:role/x"]))
    assert message == "fleet:clusterAdmins[0]: 'arn:aws:iam::123:role/x' is not an IAM role or user ARN"


def test_kubeconfig_role_arn_is_checked() -> None:
    message = only_problem(lambda raw: raw.update(kubeconfig={"roleArn": "admin"}))
    assert message == "fleet:kubeconfig.roleArn: 'admin' is not an IAM role or user ARN"


def test_scalar_type_errors_name_the_value() -> None:
    message = only_problem(lambda raw: raw.update(protect="sometimes"))
    assert message == "fleet:protect: Input should be a valid boolean, unable to interpret input (got 'sometimes')"


# ---------------------------------------------------------------- reporting


def test_all_problems_are_reported_at_once() -> None:
    def many(raw: dict[str, Any]) -> None:
        cluster(raw, "mgmt").update(region="nowhere")
        cluster(raw, "prod-us").update(availabilityZones=9)
        cluster(raw, "prod-eu")["nodeGroups"][0].update(minSize=5)
        raw["clusterz"] = []

    problems = problems_after(many)
    assert len(problems) == 4
    assert [p.split(":", 2)[1] for p in problems] == [
        "clusters[0].region",
        "clusters[1].availabilityZones",
        "clusters[2].nodeGroups[0]",
        "clusterz",
    ]


def test_error_text_lists_every_problem_without_a_traceback() -> None:
    raw = raw_prod()
    cluster(raw, "mgmt").update(region="nowhere")
    raw["clusterz"] = []
    with pytest.raises(ConfigError) as caught:
        load_fleet(raw)
    text = str(caught.value)
    assert text.startswith("invalid stack config (2 problems):\n")
    assert "  - fleet:clusters[0].region: 'nowhere' is not an AWS region code" in text
    assert "  - fleet:clusterz: unknown key" in text


def test_bad_config_fails_before_any_resource_is_registered() -> None:
    def bad(config: dict[str, Any]) -> None:
        config["fleet:clusters"][2]["vpcCidr"] = "10.20.0.0/16"

    with pytest.raises(ConfigError, match=r"fleet:clusters\[2\]\.vpcCidr: 10\.20\.0\.0/16 overlaps") as caught:
        run_stack("fleet", mutate=bad, registrations_on_error=(seen := list[str]()))
    assert caught.value.problems
    assert seen == [], f"resources registered despite invalid config: {seen}"


def test_region_with_too_few_zones_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as caught:
        run_stack("fleet", zones_per_region={"eu-west-1": 2})
    assert caught.value.problems == [
        "fleet:clusters[2].availabilityZones: eu-west-1: 3 requested but only 2 zones are available to EKS (euw1-az1, euw1-az2)"
    ]
