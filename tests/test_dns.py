"""Global traffic under mocks: edges, health checks and Route53 records; and fleet:dns validation."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.planning.checks import load_fleet
from components.planning.iam_policies import load_balancer_controller_policy
from offline.harness import HOSTED_ZONE_ID, NLB_ZONE_IDS, Registration, Run, run_stack
from tests.config_cases import problems_after, raw_prod

REGIONS = {"prod-us": "us-east-1", "prod-eu": "eu-west-1"}
# Application (not network) load balancer zone ids, as in the seed's 70/30 example: wrong for an NLB.
ALB_ZONE_IDS = {"Z35SXDOTRQ7X7K", "Z32O12XQLNTSW2"}


def records(run: Run, name: str) -> dict[str, dict[str, Any]]:
    return {
        r.inputs["setIdentifier"]: r.inputs
        for r in run.of_type("aws:route53/record:Record")
        if r.inputs["name"] == name and "setIdentifier" in r.inputs
    }


def region_of(run: Run, registration: Registration) -> str:
    reference = registration.provider or registration.providers.get("aws", "")
    return str(run.registrations[reference.rsplit("::", 1)[0]].inputs["region"])


# ---------------------------------------------------------------- records


def test_weighted_70_30(fleet: Run) -> None:
    api = records(fleet, "api.example.com")
    assert set(api) == {"prod-us", "prod-eu"}
    assert api["prod-us"]["weightedRoutingPolicies"] == [{"weight": 70}]
    assert api["prod-eu"]["weightedRoutingPolicies"] == [{"weight": 30}]
    assert all(r["type"] == "A" and r["zoneId"] == HOSTED_ZONE_ID for r in api.values())


def test_failover_primary_and_secondary(fleet: Run) -> None:
    # Named by role (issue 36): moving traffic changes a set's target, never its role.
    app = records(fleet, "app.example.com")
    assert app["primary"]["failoverRoutingPolicies"] == [{"type": "PRIMARY"}]
    assert app["secondary"]["failoverRoutingPolicies"] == [{"type": "SECONDARY"}]
    assert app["primary"]["aliases"][0]["name"] == fleet.exports["edges"]["prod-us"]["hostname"]
    assert app["secondary"]["aliases"][0]["name"] == fleet.exports["edges"]["prod-eu"]["hostname"]


def test_latency_one_per_cluster_with_its_region(fleet: Run) -> None:
    www = records(fleet, "www.example.com")
    assert {k: v["latencyRoutingPolicies"] for k, v in www.items()} == {
        "prod-us": [{"region": "us-east-1"}],
        "prod-eu": [{"region": "eu-west-1"}],
    }


def test_geolocation_one_per_location_plus_default(fleet: Run) -> None:
    shop = records(fleet, "shop.example.com")
    assert {k: v["geolocationRoutingPolicies"] for k, v in shop.items()} == {
        "continent-eu": [{"continent": "EU"}],
        "default": [{"country": "*"}],
    }


def test_every_record_aliases_its_edge_with_the_nlb_zone_and_health_check(fleet: Run) -> None:
    edges = fleet.exports["edges"]
    all_records = [r for r in fleet.of_type("aws:route53/record:Record") if "setIdentifier" in r.inputs]
    assert len(all_records) == 8
    hostnames = {edge["hostname"]: cluster for cluster, edge in edges.items()}
    for record in all_records:
        inputs = record.inputs
        cluster = hostnames[inputs["aliases"][0]["name"]]
        (alias,) = inputs["aliases"]
        assert alias == {
            "name": edges[cluster]["hostname"],
            "zoneId": NLB_ZONE_IDS[REGIONS[cluster]],
            "evaluateTargetHealth": True,
        }
        assert alias["zoneId"] not in ALB_ZONE_IDS
        assert inputs["healthCheckId"] == edges[cluster]["healthCheckId"]
        # A replacement (another zone) is created first; an identifier change is an update (one batch).
        assert not record.delete_before_replace


def test_each_edge_has_its_own_name_in_the_zone(fleet: Run) -> None:
    for cluster in REGIONS:
        record = fleet.named(f"traffic-edge-{cluster}").inputs
        assert record["name"] == f"{cluster}.edge.example.com"
        assert "setIdentifier" not in record
        (alias,) = record["aliases"]
        assert alias["name"] == fleet.exports["edges"][cluster]["hostname"]


def test_one_health_check_per_edge_against_its_own_name(fleet: Run) -> None:
    checks = {r.inputs["tags"]["fleet-cluster"]: r for r in fleet.of_type("aws:route53/healthCheck:HealthCheck")}
    assert set(checks) == set(REGIONS)
    for cluster, check in checks.items():
        # Route53 sends the fqdn as SNI and Host: a host-routing ingress answers the NLB's own name with 404,
        # so the check asks for a name in the zone that the ingress can serve and that aliases this edge only.
        assert check.inputs["fqdn"] == f"{cluster}.edge.example.com"
        assert not check.inputs["fqdn"].endswith("amazonaws.com")
        assert check.inputs["type"] == "HTTPS"
        assert check.inputs["port"] == 443
        assert check.inputs["resourcePath"] == "/healthz"
        assert check.inputs["failureThreshold"] == 3
        assert check.inputs["requestInterval"] == 30
        assert check.inputs["tags"]["fleet-region"] == REGIONS[cluster]
        assert check.id == fleet.exports["edges"][cluster]["healthCheckId"]


def test_health_check_settings_follow_config() -> None:
    def tcp(config: dict[str, Any]) -> None:
        config["fleet:dns"]["healthCheck"] = {"protocol": "TCP", "failureThreshold": 2, "requestInterval": 10}
        for cluster in config["fleet:clusters"][1:]:
            cluster["edge"] = {"ingress": {"port": 8443}}

    run = run_stack("fleet", mutate=tcp)
    for check in run.of_type("aws:route53/healthCheck:HealthCheck"):
        assert check.inputs["type"] == "TCP"
        # The listener's port: a check on another port would probe nothing the NLB listens on.
        assert check.inputs["port"] == 8443
        assert "resourcePath" not in check.inputs
        assert (check.inputs["failureThreshold"], check.inputs["requestInterval"]) == (2, 10)


def test_dns_resources_use_the_route53_home_provider(fleet: Run) -> None:
    for registration in [*fleet.of_type("aws:route53/record:Record"), *fleet.of_type("aws:route53/healthCheck:HealthCheck")]:
        assert region_of(fleet, registration) == "us-east-1"


def test_dns_output(fleet: Run) -> None:
    dns = fleet.exports["dns"]
    assert dns["api.example.com"] == {
        "routing": "weighted",
        "targets": [
            {"setIdentifier": "prod-eu", "cluster": "prod-eu", "region": "eu-west-1", "weight": 30},
            {"setIdentifier": "prod-us", "cluster": "prod-us", "region": "us-east-1", "weight": 70},
        ],
    }
    assert [t["failover"] for t in dns["app.example.com"]["targets"]] == ["PRIMARY", "SECONDARY"]
    assert dns["shop.example.com"]["routing"] == "geolocation"
    assert [(t["cluster"], t["location"]) for t in dns["shop.example.com"]["targets"]] == [
        ("prod-eu", "continent-eu"),
        ("prod-us", "default"),
    ]


# ---------------------------------------------------------------- change isolation


def fingerprint(run: Run) -> dict[str, Any]:
    return {urn: (r.inputs, r.provider, r.providers, r.protect) for urn, r in run.registrations.items()}


def diff(before: Run, after: Run) -> dict[str, str]:
    a, b = fingerprint(before), fingerprint(after)
    changed = {}
    for urn in set(a) | set(b):
        if a.get(urn) != b.get(urn):
            changed[urn.rsplit("::", 1)[-1]] = "added" if urn not in a else "removed" if urn not in b else "changed"
    return changed


def test_changing_one_weight_changes_exactly_one_resource(fleet: Run) -> None:
    after = run_stack("fleet", mutate=lambda c: c["fleet:dns"]["records"][0]["weights"].update({"prod-eu": 50}))
    assert diff(fleet, after) == {"traffic-api.example.com-prod-eu": "changed"}
    assert records(after, "api.example.com")["prod-eu"]["weightedRoutingPolicies"] == [{"weight": 50}]


def test_adding_a_cluster_to_a_record_adds_one_record() -> None:
    def without_hub(config: dict[str, Any]) -> None:
        config["fleet:dns"]["records"][2]["clusters"] = ["prod-us"]

    before = run_stack("fleet", mutate=without_hub)
    after = run_stack("fleet")
    assert diff(before, after) == {"traffic-www.example.com-prod-eu": "added"}


# ---------------------------------------------------------------- the owned edge


def edge_children(run: Run, cluster: str) -> list[Registration]:
    return list(run.children_of(run.named(f"{cluster}-edge").urn))


def test_only_serving_clusters_get_an_edge(fleet: Run) -> None:
    assert {r.name for r in fleet.of_type("fleet:index:RegionalEdge")} == {"prod-us-edge", "prod-eu-edge"}


@pytest.mark.parametrize("cluster", list(REGIONS))
def test_edge_resources_use_the_clusters_providers(fleet: Run, cluster: str) -> None:
    children = edge_children(fleet, cluster)
    assert len(children) >= 12
    for child in children:
        if child.type.startswith("aws:"):
            assert region_of(fleet, child) == REGIONS[cluster], child.name
        elif child.type.startswith("kubernetes:"):
            assert child.provider.rsplit("::", 2)[-2] == f"{cluster}-k8s", child.name


@pytest.mark.parametrize("cluster", list(REGIONS))
def test_internet_facing_nlb_in_public_subnets_forwarding_to_the_ingress(fleet: Run, cluster: str) -> None:
    nlb = fleet.named(f"{cluster}-edge-nlb")
    assert nlb.type == "aws:lb/loadBalancer:LoadBalancer"
    assert nlb.inputs["loadBalancerType"] == "network"
    assert nlb.inputs["internal"] is False
    public = sorted(r.id for r in fleet.of_type("aws:ec2/subnet:Subnet") if r.name.startswith(f"{cluster}-network-public-"))
    assert sorted(nlb.inputs["subnets"]) == public
    target_group = fleet.named(f"{cluster}-edge-tg")
    assert target_group.inputs["targetType"] == "ip"
    assert target_group.inputs["port"] == 443
    listener = fleet.named(f"{cluster}-edge-listener").inputs
    assert listener["loadBalancerArn"] == nlb.outputs["arn"]
    assert listener["defaultActions"] == [{"type": "forward", "targetGroupArn": target_group.outputs["arn"]}]
    binding = fleet.named(f"{cluster}-edge-binding")
    assert binding.inputs["apiVersion"] == "elbv2.k8s.aws/v1beta1"
    assert binding.inputs["kind"] == "TargetGroupBinding"
    assert binding.inputs["metadata"] == {"name": "ingress-gateway", "namespace": "ingress"}
    assert binding.inputs["spec"] == {
        "serviceRef": {"name": "ingress-gateway", "port": 443},
        "targetGroupARN": target_group.outputs["arn"],
        "targetType": "ip",
    }
    controller = fleet.named(f"{cluster}-edge-lbc")
    assert controller.urn in binding.dependencies, "the CRD comes with the controller's chart"


@pytest.mark.parametrize("cluster", list(REGIONS))
def test_only_the_listener_port_is_open_to_the_internet(fleet: Run, cluster: str) -> None:
    rules = {r.name: r.inputs for r in edge_children(fleet, cluster) if r.type.startswith("aws:vpc/securityGroup")}
    open_to_all = {name for name, rule in rules.items() if rule.get("cidrIpv4") == "0.0.0.0/0"}
    assert open_to_all == {f"{cluster}-edge-nlb-listener"}
    listener_rule = rules[f"{cluster}-edge-nlb-listener"]
    assert (listener_rule["ipProtocol"], listener_rule["fromPort"], listener_rule["toPort"]) == ("tcp", 443, 443)
    to_pods = rules[f"{cluster}-edge-pods-from-nlb"]
    assert to_pods["securityGroupId"] == fleet.named(f"{cluster}-eks").outputs["clusterSecurityGroupId"]
    assert to_pods["referencedSecurityGroupId"] == fleet.named(f"{cluster}-edge-nlb-sg").id
    assert (to_pods["fromPort"], to_pods["toPort"]) == (443, 443)


@pytest.mark.parametrize("cluster", list(REGIONS))
def test_controller_release_pinned_and_told_its_cluster(fleet: Run, cluster: str) -> None:
    release = fleet.named(f"{cluster}-edge-lbc")
    assert release.type == "kubernetes:helm.sh/v3:Release"
    assert release.inputs["chart"] == "aws-load-balancer-controller"
    assert release.inputs["version"] == "1.17.0"
    assert release.inputs["repositoryOpts"] == {"repo": "https://aws.github.io/eks-charts"}
    assert release.inputs["namespace"] == "kube-system"
    values = release.inputs["values"]
    assert values["clusterName"] == cluster
    assert values["region"] == REGIONS[cluster]
    assert values["vpcId"] == fleet.named(f"{cluster}-network-vpc").id, "no IMDS lookup (hop limit 1)"
    role = fleet.named(f"{cluster}-edge-lbc-role")
    # Pod Identity (fleet:workloadIdentity's default): no annotation; the association names the role.
    assert values["serviceAccount"]["annotations"] == {}
    association = fleet.named(f"{cluster}-edge-lbc-identity").inputs
    assert (association["serviceAccount"], association["roleArn"]) == ("aws-load-balancer-controller", role.outputs["arn"])
    assert values["enableServiceMutatorWebhook"] is False


@pytest.mark.parametrize("cluster", list(REGIONS))
def test_controller_role_trusts_only_its_service_account(fleet: Run, cluster: str) -> None:
    role = fleet.named(f"{cluster}-edge-lbc-role")
    (statement,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert statement["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    assert statement["Action"] == ["sts:AssumeRole", "sts:TagSession"]
    assert statement["Condition"] == {
        "StringEquals": {
            "aws:RequestTag/eks-cluster-arn": f"arn:aws:eks:{REGIONS[cluster]}:123456789012:cluster/{cluster}",
            "aws:RequestTag/eks-cluster-name": cluster,
            "aws:RequestTag/kubernetes-namespace": "kube-system",
            "aws:RequestTag/kubernetes-service-account": "aws-load-balancer-controller",
        }
    }


@pytest.mark.parametrize("cluster", list(REGIONS))
def test_controller_policy_mutates_only_its_own_target_group(fleet: Run, cluster: str) -> None:
    policy = fleet.named(f"{cluster}-edge-lbc-policy")
    document = json.loads(policy.inputs["policy"])
    target_group_arn = fleet.named(f"{cluster}-edge-tg").outputs["arn"]
    assert document == load_balancer_controller_policy([target_group_arn])
    for statement in document["Statement"]:
        actions = statement["Action"]
        if statement["Resource"] == "*":
            assert all(a.split(":")[1].startswith("Describe") for a in actions), actions
        else:
            assert statement["Resource"] == [target_group_arn]
            assert sorted(actions) == ["elasticloadbalancing:DeregisterTargets", "elasticloadbalancing:RegisterTargets"]
    every_action = {a for s in document["Statement"] for a in s["Action"]}
    assert not any(
        a.startswith(("elasticloadbalancing:Create", "elasticloadbalancing:Delete", "ec2:Authorize", "ec2:Create"))
        for a in every_action
    )


def test_existing_load_balancer_instead_of_an_owned_one() -> None:
    def external(config: dict[str, Any]) -> None:
        config["fleet:clusters"][2]["edge"] = {"dnsName": "legacy-eu.elb.eu-west-1.amazonaws.com", "zoneId": "Z2IFOLAFXWLO4F"}

    run = run_stack("fleet", mutate=external)
    assert {r.name for r in run.of_type("fleet:index:RegionalEdge")} == {"prod-us-edge"}
    (alias,) = records(run, "api.example.com")["prod-eu"]["aliases"]
    assert alias["name"] == "legacy-eu.elb.eu-west-1.amazonaws.com"
    check = next(r for r in run.of_type("aws:route53/healthCheck:HealthCheck") if r.inputs["tags"]["fleet-cluster"] == "prod-eu")
    assert check.inputs["fqdn"] == "prod-eu.edge.example.com"
    assert check.inputs["port"] == 443
    assert run.named("traffic-edge-prod-eu").inputs["aliases"][0]["name"] == "legacy-eu.elb.eu-west-1.amazonaws.com"
    assert run.exports["edges"]["prod-eu"]["owned"] is False


def test_no_dns_config_no_traffic_resources() -> None:
    run = run_stack("fleet", mutate=lambda c: c.pop("fleet:dns"))
    assert not run.of_type("fleet:index:GlobalTraffic")
    assert not run.of_type("fleet:index:RegionalEdge")
    assert run.exports["dns"] == {}


def test_edges_never_wait_on_another_cluster(fleet: Run) -> None:
    for cluster in REGIONS:
        other = next(c for c in REGIONS if c != cluster)
        for child in edge_children(fleet, cluster):
            names = {fleet.registrations[u].name for u in fleet.transitive_dependencies(child) if u in fleet.registrations}
            assert not any(n.startswith(f"{other}-") for n in names), child.name


# ---------------------------------------------------------------- validation of fleet:dns


dns_problems = problems_after


def record(raw: dict[str, Any], index: int) -> dict[str, Any]:
    return raw["dns"]["records"][index]  # type: ignore[no-any-return]


def test_record_outside_the_zone() -> None:
    assert dns_problems(lambda raw: record(raw, 0).update(name="api.example.org")) == [
        "fleet:dns.records[0].name: 'api.example.org' is not inside the zone 'example.com'"
    ]


def test_record_names_are_unique() -> None:
    assert dns_problems(lambda raw: record(raw, 1).update(name="API.example.com.")) == [
        "fleet:dns.records[1].name: 'api.example.com' is already the name of fleet:dns.records[0]"
    ]


def test_record_name_syntax() -> None:
    assert dns_problems(lambda raw: record(raw, 0).update(name="api..example.com")) == [
        "fleet:dns.records[0].name: 'api..example.com' is not a DNS name such as api.example.com"
    ]


def test_routing_value() -> None:
    (problem,) = dns_problems(lambda raw: record(raw, 0).update(routing="round-robin"))
    assert problem.startswith("fleet:dns.records[0].routing: Input should be 'weighted', 'failover', 'latency' or 'geolocation'")


def test_routing_fields_must_match() -> None:
    assert dns_problems(lambda raw: record(raw, 0).update(primary="prod-us")) == [
        "fleet:dns.records[0]: primary is not used by weighted routing"
    ]
    assert dns_problems(lambda raw: record(raw, 1).pop("secondary")) == ["fleet:dns.records[1]: failover routing needs secondary"]


def test_referenced_cluster_must_exist() -> None:
    assert dns_problems(lambda raw: record(raw, 0)["weights"].update({"prod-ap": 10})) == [
        "fleet:dns.records[0].weights.prod-ap: no cluster named 'prod-ap' in fleet:clusters"
    ]
    assert dns_problems(lambda raw: record(raw, 2).update(clusters=["prod-us", "prod-ap"])) == [
        "fleet:dns.records[2].clusters[1]: no cluster named 'prod-ap' in fleet:clusters"
    ]


def test_referenced_cluster_must_have_an_edge() -> None:
    problems = dns_problems(lambda raw: raw["clusters"][2].update(edge={"enabled": False}))
    assert (
        "fleet:dns.records[0].weights.prod-eu: cluster 'prod-eu' has edge.enabled false, so it has no load balancer to route to"
        in problems
    )
    assert len(problems) == 4


@pytest.mark.parametrize("weight", [-1, 256])
def test_weight_range(weight: int) -> None:
    (problem,) = dns_problems(lambda raw: record(raw, 0)["weights"].update({"prod-eu": weight}))
    assert problem.startswith("fleet:dns.records[0].weights.prod-eu: Input should be")


def test_weights_not_all_zero() -> None:
    assert dns_problems(lambda raw: record(raw, 0).update(weights={"prod-us": 0, "prod-eu": 0})) == [
        "fleet:dns.records[0]: weights are all 0: Route53 would answer with every target regardless of weight"
    ]


def test_primary_differs_from_secondary() -> None:
    assert dns_problems(lambda raw: record(raw, 1).update(secondary="prod-us")) == [
        "fleet:dns.records[1]: primary and secondary are both 'prod-us'; failover needs two clusters"
    ]


def test_geolocation_codes_are_known() -> None:
    (problem,) = dns_problems(lambda raw: record(raw, 3)["locations"].update({"EUROPE": "prod-eu"}))
    assert problem.startswith("fleet:dns.records[3]: 'EUROPE' is not a Route53 geolocation code")


def test_geolocation_needs_exactly_one_default() -> None:
    assert dns_problems(lambda raw: record(raw, 3)["locations"].pop("default")) == [
        "fleet:dns.records[3]: locations needs exactly one 'default' entry, for clients no other location matches"
    ]


def test_geolocation_country_and_continent_forms() -> None:
    raw = raw_prod()
    record(raw, 3)["locations"] = {"country:NA": "prod-eu", "continent:NA": "prod-us", "DE": "prod-eu", "default": "prod-us"}
    spec = load_fleet(raw)
    assert spec.dns is not None
    assert [(t.set_identifier, t.cluster) for t in spec.dns.records[3].targets()] == [
        ("continent-na", "prod-us"),
        ("country-de", "prod-eu"),
        ("country-na", "prod-eu"),
        ("default", "prod-us"),
    ]


@pytest.mark.parametrize(
    ("health_check", "path", "start"),
    [
        ({"port": 0}, "port", "Input should be greater than or equal to 1"),
        ({"port": 70000}, "port", "Input should be less than or equal to 65535"),
        ({"failureThreshold": 11}, "failureThreshold", "Input should be less than or equal to 10"),
        ({"requestInterval": 20}, "requestInterval", "Input should be 10 or 30"),
        ({"protocol": "HTTP2"}, "protocol", "Input should be 'HTTP', 'HTTPS' or 'TCP'"),
    ],
)
def test_health_check_ranges(health_check: dict[str, Any], path: str, start: str) -> None:
    (problem,) = dns_problems(lambda raw: raw["dns"]["healthCheck"].update(health_check))
    assert problem.startswith(f"fleet:dns.healthCheck.{path}: {start}")


def test_health_check_path() -> None:
    assert dns_problems(lambda raw: raw["dns"]["healthCheck"].update(path="healthz")) == [
        "fleet:dns.healthCheck: path 'healthz' must start with '/', have no spaces and be at most 255 characters"
    ]
    assert dns_problems(lambda raw: raw["dns"]["healthCheck"].update(protocol="TCP")) == [
        "fleet:dns.healthCheck: path is only for HTTP and HTTPS health checks"
    ]


def test_external_edge_needs_dns_name_and_zone() -> None:
    assert dns_problems(lambda raw: raw["clusters"][2].update(edge={"dnsName": "lb.example.net"})) == [
        "fleet:clusters[2].edge: an existing load balancer needs both dnsName and zoneId"
    ]
    (problem,) = dns_problems(lambda raw: raw["clusters"][2].update(edge={"dnsName": "lb.example.net", "zoneId": "nope"}))
    assert problem == "fleet:clusters[2].edge.zoneId: 'nope' is not a Route53 hosted zone id (Z followed by letters and digits)"


def test_unknown_dns_key() -> None:
    assert dns_problems(lambda raw: raw["dns"].update(healthcheck={})) == [
        "fleet:dns.healthcheck: unknown key; did you mean 'healthCheck'?"
    ]


# One record of each routing policy, as a stack file would write it.
EXAMPLE_RECORDS: dict[str, dict[str, Any]] = {
    "weighted": {"weights": {"a": 70, "b": 30}},
    "failover": {"primary": "a", "secondary": "b"},
    "latency": {"clusters": ["a", "b"]},
    "geolocation": {"locations": {"EU": "b", "default": "a"}},
}


def test_every_routing_policy_has_an_example_and_a_typed_route53_argument() -> None:
    from components.config.dns import ROUTING_POLICIES, parse_record, routing_of
    from components.resources.dns import ROUTING_POLICY_ARGS, describe_target

    assert {routing_of(p) for p in ROUTING_POLICIES} == set(EXAMPLE_RECORDS)
    for routing, fields in EXAMPLE_RECORDS.items():
        record = parse_record({"name": "x.example.com", "routing": routing, **fields})
        assert type(record).__name__.lower().startswith(routing)
        for target in record.targets():
            policy = record.route53_policy(target, "us-east-1")
            # The typed block accepts exactly the values the policy hands it (an unknown keyword raises).
            ROUTING_POLICY_ARGS[policy.argument](**policy.values)
            assert describe_target(record, target, "us-east-1")["cluster"] == target.cluster


def test_a_routing_value_selects_its_own_fields_only() -> None:
    from components.config.dns import ROUTING_FIELDS

    # Each policy's fields belong to it alone: a field shared by two would be accepted for either.
    fields = [f for needed in ROUTING_FIELDS.values() for f in needed]
    assert len(fields) == len(set(fields))
    for routing, needed in ROUTING_FIELDS.items():
        assert set(needed) == set(EXAMPLE_RECORDS[routing])


def test_routing_problems_are_reported_with_the_record_s_other_problems() -> None:
    def wrong(raw: dict[str, Any]) -> None:
        record(raw, 0).update(primary="prod-us", name="api..example.com")
        record(raw, 1).pop("secondary")

    assert problems_after(wrong) == [
        "fleet:dns.records[0].name: 'api..example.com' is not a DNS name such as api.example.com",
        "fleet:dns.records[0]: primary is not used by weighted routing",
        "fleet:dns.records[1]: failover routing needs secondary",
    ]


DNS_ACCOUNT = {
    "id": "333344445555",
    "roleArn": "arn:aws:iam::333344445555:role/fleet-dns",
    "previewRoleArn": "arn:aws:iam::333344445555:role/fleet-dns-read",
}


def test_a_zone_in_a_dns_account_gets_its_records_and_checks_there_as_its_role() -> None:
    def in_dns_account(config: dict[str, Any]) -> None:
        config["fleet:dns"]["account"] = DNS_ACCOUNT

    for preview, role in ((False, DNS_ACCOUNT["roleArn"]), (True, DNS_ACCOUNT["previewRoleArn"])):
        run = run_stack("fleet", mutate=in_dns_account, preview=preview)
        dns = run.named("aws-dns")
        assert json.loads(dns.inputs["allowedAccountIds"]) == [DNS_ACCOUNT["id"]]
        assert [r["roleArn"] for r in json.loads(dns.inputs["assumeRoles"])] == [role]
        route53 = run.of_type("aws:route53/record:Record") + run.of_type("aws:route53/healthCheck:HealthCheck")
        assert route53
        assert {run.registrations[r.provider_urn].name for r in route53} == {"aws-dns"}
    # Nothing else moves there: the clusters, their networks and edges stay in the stack's account.
    assert run.registrations[run.named("prod-us-network-vpc").provider_urn].name == "aws-us-east-1"
    assert run.registrations[run.named("prod-us-edge-nlb").provider_urn].name == "aws-us-east-1"


def test_arc_with_a_dns_account_is_refused() -> None:
    def both(raw: dict[str, Any]) -> None:
        raw["dns"]["account"] = DNS_ACCOUNT
        raw["dns"]["arc"] = True

    assert any(p.startswith("fleet:dns") and "ARC's health checks read routing controls" in p for p in problems_after(both))
