"""The GitOps hub under mocks: in the single-stack fleet, and on mgmt registering the stacks that join it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.planning import gitops
from offline.harness import ACCOUNT, Registration, Run, run_stack
from tests.config_cases import PROD, members_registered, problems_after, staging_registered
from tests.reference import schema_errors, unknown_keys

HUB = "mgmt"
MEMBERS = {"prod-us": "us-east-1", "prod-eu": "eu-west-1"}
CLUSTER_ADMIN = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"


def provider_name(run: Run, registration: Registration) -> str:
    return run.registrations[registration.provider_urn].name


def region_of(run: Run, registration: Registration) -> str:
    return str(run.registrations[registration.provider_urn].inputs["region"])


def custom_resources(run: Run, kind: str) -> list[Registration]:
    return [r for r in run.of_type("kubernetes:argoproj.io/v1alpha1:" + kind)]


def manifest(registration: Registration) -> dict[str, Any]:
    return {key: registration.inputs[key] for key in ("apiVersion", "kind", "metadata", "spec")}


# ---------------------------------------------------------------- the release


def test_argocd_release_on_the_hub(fleet: Run) -> None:
    release = fleet.named("argocd-chart")
    assert provider_name(fleet, release) == f"{HUB}-k8s"
    assert release.inputs["chart"] == "argo-cd"
    assert release.inputs["version"] == "10.1.1"
    assert release.inputs["namespace"] == "argocd"
    assert release.inputs["repositoryOpts"]["repo"] == "https://argoproj.github.io/argo-helm"
    assert release.type == "kubernetes:helm.sh/v3:Release", "the chart's hooks must run (not helm.v4.Chart)"


def test_release_values_exist_upstream_and_are_hardened(fleet: Run) -> None:
    values = fleet.named("argocd-chart").inputs["values"]
    assert unknown_keys(values, "argo-cd") == []
    assert values["configs"]["cm"]["admin.enabled"] is False
    assert values["configs"]["rbac"]["policy.default"] == "role:readonly"
    assert values["server"]["service"]["type"] == "ClusterIP"
    assert values["redis-ha"]["enabled"] is True
    assert values["server"]["replicas"] == values["repoServer"]["replicas"] == 2
    # Pod Identity (fleet:workloadIdentity's default): no role annotation; a restart on a change of mode.
    for component in ("controller", "server", "applicationSet"):
        assert values[component]["serviceAccount"]["annotations"] == {}
        assert values[component]["podAnnotations"] == {"fleet/workload-identity": "podIdentity"}


def test_nothing_runs_that_nobody_can_use(fleet: Run) -> None:
    # Admin off and no SSO: Dex would serve no connector and notifications would have no service.
    values = fleet.named("argocd-chart").inputs["values"]
    assert values["dex"] == {"enabled": False}
    assert values["notifications"] == {"enabled": False}
    assert "oidc.config" not in values["configs"]["cm"]
    assert "secret" not in values["configs"]
    assert "values" not in fleet.named("argocd-chart").secret_inputs


def test_sso_through_oidc_without_dex() -> None:
    sso = {
        "issuer": "https://login.example.com/oauth2/default",
        "clientId": "argocd",
        "clientSecret": "s3cr3t-client-value",
        "adminGroups": ["platform-admins"],
    }
    run = run_stack(
        "fleet", mutate=lambda c: c["fleet:argocd"].update(sso=sso, url="https://argocd.example.com", notifications=True)
    )
    release = run.named("argocd-chart")
    values = release.inputs["values"]
    # argocd-cm renders every configs.cm key (templates/_helpers.tpl, argo-cd.config.cm): oidc.config is one.
    assert unknown_keys(values, "argo-cd") == ["configs/cm/oidc.config"]
    assert values["dex"] == {"enabled": False}
    assert values["notifications"] == {"enabled": True}
    cm = values["configs"]["cm"]
    # The chart sets argocd-cm's url to https://<global.domain>: the OIDC redirect goes there.
    assert values["global"] == {"domain": "argocd.example.com"}
    oidc = json.loads(cm["oidc.config"])
    assert oidc["issuer"] == sso["issuer"]
    assert oidc["clientID"] == "argocd"
    # The secret itself lives in argocd-secret; argocd-cm only refers to it.
    assert oidc["clientSecret"] == "$oidc.clientSecret"
    assert values["configs"]["secret"]["extra"] == {"oidc.clientSecret": "s3cr3t-client-value"}
    assert values["configs"]["rbac"]["policy.csv"] == "g, platform-admins, role:admin\n"
    assert values["configs"]["rbac"]["policy.default"] == "role:readonly"
    assert "values" in release.secret_inputs
    assert "values" in release.additional_secret_outputs


def test_sso_needs_the_external_url() -> None:
    problems = problems_after(
        lambda raw: raw["argocd"].update(sso={"issuer": "https://idp.example.com", "clientId": "a", "clientSecret": "b"})
    )
    assert problems == ["fleet:argocd: sso needs url: the OIDC provider redirects people back to it"]


def test_enabling_admin_sets_a_generated_password_hash_and_keeps_values_secret() -> None:
    run = run_stack("fleet", mutate=lambda c: c["fleet:argocd"].update(admin={"enabled": True}))
    password = run.named("argocd-admin-password")
    release = run.named("argocd-chart")
    assert release.inputs["values"]["configs"]["cm"]["admin.enabled"] is True
    assert release.inputs["values"]["configs"]["secret"]["argocdServerAdminPassword"] == password.outputs["bcryptHash"]
    assert "values" in release.secret_inputs
    # Not an output: every stack joining this hub reads its outputs (docs/runbooks.md: "Sign in to Argo CD as admin").
    assert "argocdAdminPassword" not in run.exports
    assert password.outputs["result"] not in json.dumps(run.exports)


def test_exposing_the_server_is_explicit() -> None:
    run = run_stack("fleet", mutate=lambda c: c["fleet:argocd"].update(exposeServer=True))
    assert run.named("argocd-chart").inputs["values"]["server"]["service"]["type"] == "LoadBalancer"


# ---------------------------------------------------------------- identity


def test_hub_role_trust_is_pinned_to_the_three_service_accounts(fleet: Run) -> None:
    role = fleet.named("argocd-role")
    assert region_of(fleet, role) == "us-east-1"
    trust = json.loads(role.inputs["assumeRolePolicy"])
    # Pod Identity only: EKS Auth assumes it for the hub cluster's three Argo CD accounts (the session tags
    # pinned), and no member's trust or OIDC provider is named, so adding a member changes no trust.
    (pod,) = trust["Statement"]
    assert pod["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    assert pod["Action"] == ["sts:AssumeRole", "sts:TagSession"]
    assert pod["Condition"] == {
        "StringEquals": {
            "aws:RequestTag/eks-cluster-arn": f"arn:aws:eks:us-east-1:123456789012:cluster/{HUB}",
            "aws:RequestTag/eks-cluster-name": HUB,
            "aws:RequestTag/kubernetes-namespace": "argocd",
            "aws:RequestTag/kubernetes-service-account": [
                "argocd-application-controller",
                "argocd-applicationset-controller",
                "argocd-server",
            ],
        }
    }
    associated = {
        r.inputs["serviceAccount"]
        for r in fleet.of_type("aws:eks/podIdentityAssociation:PodIdentityAssociation")
        if r.inputs["namespace"] == "argocd" and r.inputs["clusterName"] == HUB
    }
    assert associated == {"argocd-application-controller", "argocd-applicationset-controller", "argocd-server"}
    assert role.inputs["namePrefix"] == "fleet-fleet-argocd-hub-"


def test_access_entries_on_every_member_and_only_there(fleet: Run) -> None:
    role_arn = fleet.named("argocd-role").outputs["arn"]
    entries = {r.inputs["clusterName"]: r for r in fleet.of_type("aws:eks/accessEntry:AccessEntry")}
    assert set(entries) == set(MEMBERS)
    for member, region in MEMBERS.items():
        entry = entries[member]
        assert entry.inputs["principalArn"] == role_arn
        assert region_of(fleet, entry) == region
        assert fleet.named(f"{member}-eks").urn in fleet.transitive_dependencies(entry)
        association = fleet.named(f"{member}-argocd-admin")
        assert association.inputs["policyArn"] == CLUSTER_ADMIN
        assert association.inputs["accessScope"] == {"type": "cluster"}
        assert entry.urn in fleet.depends_on(association)


# ---------------------------------------------------------------- registrations


def cluster_secrets(run: Run) -> dict[str, Registration]:
    return {
        r.inputs["metadata"]["name"]: r
        for r in run.of_type("kubernetes:core/v1:Secret")
        if r.inputs["metadata"].get("labels", {}).get(gitops.SECRET_TYPE_LABEL) == "cluster"
    }


@pytest.mark.parametrize("member", list(MEMBERS))
def test_member_cluster_secret(fleet: Run, member: str) -> None:
    secret = cluster_secrets(fleet)[f"cluster-{member}"]
    assert provider_name(fleet, secret) == f"{HUB}-k8s"
    metadata = secret.inputs["metadata"]
    assert metadata["namespace"] == "argocd"
    assert metadata["labels"] == {
        "argocd.argoproj.io/secret-type": "cluster",
        "environment": "production",
        "overlay": f"production-{member.removeprefix('prod-')}",
        "fleet/name": member,
        "fleet/region": MEMBERS[member],
        "fleet/role": "member",
        "fleet/stack": "fleet",
    }
    endpoint = fleet.exports["clusters"][member]["endpoint"]
    role_arn = fleet.named("argocd-role").outputs["arn"]
    assert metadata["annotations"] == {
        "fleet/cluster-arn": f"arn:aws:eks:{MEMBERS[member]}:{ACCOUNT}:cluster/{member}",
        "fleet/hub-role-arn": role_arn,
        "fleet/endpoint": endpoint,
        "fleet/stack": "fleet",
    }
    data = secret.inputs["stringData"]
    assert (data["name"], data["server"]) == (member, endpoint)
    config = json.loads(data["config"])
    assert config["awsAuthConfig"] == {"clusterName": member}
    assert config["tlsClientConfig"]["insecure"] is False
    assert config["tlsClientConfig"]["caData"]
    assert "bearerToken" not in data["config"]
    assert "stringData" in secret.secret_inputs
    assert {"data", "stringData"} <= set(secret.additional_secret_outputs)
    # Registered only once the hub's role may reach the cluster.
    assert fleet.named(f"{member}-argocd-admin").urn in fleet.depends_on(secret)


def test_the_hub_registers_itself_in_cluster(fleet: Run) -> None:
    secret = cluster_secrets(fleet)[f"cluster-{HUB}"]
    data = secret.inputs["stringData"]
    assert data["server"] == "https://kubernetes.default.svc"
    assert json.loads(data["config"]) == {"tlsClientConfig": {"insecure": False}}
    assert secret.inputs["metadata"]["labels"]["fleet/role"] == "hub"
    assert secret.inputs["metadata"]["labels"]["environment"] == "management"
    # Its own clusters; staging's only once prod lists it (fleet:members).
    assert set(cluster_secrets(fleet)) == {"cluster-mgmt", "cluster-prod-us", "cluster-prod-eu"}


def test_repository_secret_is_labelled_and_secret(fleet: Run) -> None:
    repos = [
        r
        for r in fleet.of_type("kubernetes:core/v1:Secret")
        if r.inputs["metadata"].get("labels", {}).get(gitops.SECRET_TYPE_LABEL) == "repository"
    ]
    assert len(repos) == 1
    assert repos[0].inputs["stringData"] == {"type": "git", "url": "https://github.com/myorg/gitops"}
    assert "stringData" in repos[0].secret_inputs


def test_repository_credentials_stay_out_of_helm_values() -> None:
    token = "ghp_0123456789abcdef"
    run = run_stack("fleet", mutate=lambda c: c["fleet:argocd"]["repo"].update(credentials=token))
    (repo,) = [r for r in run.of_type("kubernetes:core/v1:Secret") if r.name == "argocd-repo"]
    assert repo.inputs["stringData"]["password"] == token
    assert "stringData" in repo.secret_inputs
    assert token not in json.dumps(run.named("argocd-chart").inputs["values"])


# ---------------------------------------------------------------- ApplicationSets and the root app


def test_applicationsets_validate_against_the_crd_and_wait_for_it(fleet: Run) -> None:
    (appset,) = custom_resources(fleet, "ApplicationSet")
    assert provider_name(fleet, appset) == f"{HUB}-k8s"
    assert schema_errors(manifest(appset), "argo-cd/crd-applicationset.yaml") == []
    assert fleet.named("argocd-chart").urn in fleet.depends_on(appset), "its CRD comes with the chart"
    spec = appset.inputs["spec"]
    assert spec["generators"][0]["clusters"]["selector"]["matchLabels"] == {"environment": "production"}
    assert spec["template"]["spec"]["source"] == {
        "repoURL": "https://github.com/myorg/gitops",
        "targetRevision": "main",
        "path": "apps/myapp/overlays/{{metadata.labels.overlay}}",
    }
    assert spec["template"]["spec"]["syncPolicy"]["automated"] == {"prune": True, "selfHeal": True}
    assert spec["syncPolicy"]["preserveResourcesOnDeletion"] is True


def test_root_application_validates_against_the_crd(fleet: Run) -> None:
    (root,) = custom_resources(fleet, "Application")
    assert schema_errors(manifest(root), "argo-cd/crd-application.yaml") == []
    assert root.inputs["spec"]["source"]["path"] == "clusters/mgmt"
    assert fleet.named("argocd-chart").urn in fleet.depends_on(root)


def test_argocd_output_lists_the_applications_each_set_generates(fleet: Run) -> None:
    output = fleet.exports["argocd"]
    assert output["hub"] == HUB
    assert set(output["registeredClusters"]) == {HUB, *MEMBERS}
    assert output["registeredClusters"]["prod-us"]["labels"]["overlay"] == "production-us"
    assert output["applicationSets"]["myapp"]["applications"] == [
        {"name": "myapp-prod-eu", "cluster": "prod-eu", "path": "apps/myapp/overlays/production-eu", "namespace": "myapp"},
        {"name": "myapp-prod-us", "cluster": "prod-us", "path": "apps/myapp/overlays/production-us", "namespace": "myapp"},
    ]


def test_hub_exports_for_other_stacks(fleet: Run) -> None:
    assert fleet.exports["argocdHub"] == {
        "cluster": HUB,
        "namespace": "argocd",
        "roleArn": fleet.named("argocd-role").outputs["arn"],
        # What a joining stack's clusters admit to their API endpoints: the hub's NAT addresses.
        "egressIps": sorted(
            r.outputs["publicIp"] for r in fleet.of_type("aws:ec2/eip:Eip") if r.name.startswith(f"{HUB}-network-nat-")
        ),
    }
    # Members read only this: the hub's kubeconfig is not handed out (nothing of theirs writes to the hub).
    assert "hubKubeconfig" not in fleet.exports
    assert "argocdAdminPassword" not in fleet.exports, "admin is off by default"


def test_no_argocd_without_the_section() -> None:
    run = run_stack("fleet", mutate=lambda c: c.pop("fleet:argocd"))
    assert not [r for r in run.registrations.values() if "argocd" in r.name]
    assert run.exports["argocd"] == {}
    assert "argocdHub" not in run.exports


# ---------------------------------------------------------------- a stack that joins the hub


def test_the_hub_registers_stagings_cluster_from_stagings_outputs(staging: Run) -> None:
    # Registration is pulled: mgmt writes the Secret on its cluster, as itself, from what staging exports.
    registration = staging.exports[gitops.REGISTRATION_OUTPUT]
    hub = run_stack(
        "mgmt",
        mutate=staging_registered,
        stack_outputs={"organization/fleet/staging": {gitops.REGISTRATION_OUTPUT: registration}},
    )
    secret = cluster_secrets(hub)["cluster-staging-us"]
    assert provider_name(hub, secret) == "mgmt-k8s"
    assert secret.inputs["stringData"]["server"] == registration["clusters"]["staging-us"]["server"]
    assert registration["clusters"]["staging-us"]["server"] == staging.exports["clusters"]["staging-us"]["endpoint"]
    labels = secret.inputs["metadata"]["labels"]
    assert (labels["environment"], labels["fleet/stack"], labels["fleet/region"]) == ("staging", "staging", "us-west-2")
    config = json.loads(secret.inputs["stringData"]["config"])
    assert config["awsAuthConfig"] == {"clusterName": "staging-us"}
    assert config["tlsClientConfig"]["caData"] == registration["clusters"]["staging-us"]["caData"]
    assert "stringData" in secret.secret_inputs
    assert hub.exports["argocd"]["registeredClusters"]["staging-us"]["labels"].items() <= labels.items()


def test_staging_writes_nothing_on_the_hub(staging: Run) -> None:
    assert not cluster_secrets(staging)
    assert not [r for r in staging.of_type("pulumi:providers:kubernetes") if r.name != "staging-us-k8s"]
    assert set(staging.exports[gitops.REGISTRATION_OUTPUT]["clusters"]) == {"staging-us"}


def test_a_member_not_yet_deployed_stops_the_hub_naming_what_to_deploy() -> None:
    registered: list[str] = []
    with pytest.raises(
        Exception, match=r"stack organization/fleet/staging output argocdRegistration: missing: deploy organization/fleet/staging"
    ):
        run_stack(
            "mgmt",
            mutate=staging_registered,
            stack_outputs={"organization/fleet/staging": {}},
            registrations_on_error=registered,
        )
    # Before any cloud resource: only the providers the identity check needs, and the stack references.
    assert registered == ["aws-us-east-1"]


def test_staging_grants_the_hub_role_on_its_own_cluster(mgmt: Run, staging: Run) -> None:
    (entry,) = staging.of_type("aws:eks/accessEntry:AccessEntry")
    assert entry.inputs["clusterName"] == "staging-us"
    assert entry.inputs["principalArn"] == mgmt.exports["argocdHub"]["roleArn"]
    assert region_of(staging, entry) == "us-west-2"


def test_staging_creates_nothing_of_the_hubs_own(staging: Run) -> None:
    names = {r.name for r in staging.registrations.values()}
    assert not {"argocd-chart", "argocd-role", "argocd-ns"} & names
    assert not [r for r in staging.of_type("kubernetes:helm.sh/v3:Release") if r.inputs["chart"] == "argo-cd"]
    assert staging.exports["argocd"]["hub"] == "organization/fleet/mgmt"
    assert set(staging.exports["argocd"]["registeredClusters"]) == {"staging-us"}
    assert "argocdHub" not in staging.exports


def test_mgmt_registers_prods_clusters_from_prods_outputs_and_prod_writes_nothing_there(mgmt: Run, prod: Run) -> None:
    # The seed's picture: Argo CD on mgmt deploys to prod-us and prod-eu (and staging), each stack
    # owning only its own resources. Prod grants mgmt's role an entry on its clusters and exports them.
    registration = prod.exports[gitops.REGISTRATION_OUTPUT]
    assert set(registration["clusters"]) == {"prod-us", "prod-eu"}
    hub = run_stack("mgmt", mutate=members_registered, stack_outputs={PROD: {gitops.REGISTRATION_OUTPUT: registration}})
    secrets = cluster_secrets(hub)
    # The hub's own (in-cluster) registration, and every member's cluster.
    assert set(secrets) == {"cluster-mgmt", "cluster-prod-us", "cluster-prod-eu", "cluster-staging-us"}
    for name in ("prod-us", "prod-eu"):
        secret = secrets[f"cluster-{name}"]
        assert provider_name(hub, secret) == "mgmt-k8s"
        assert secret.inputs["stringData"]["server"] == prod.exports["clusters"][name]["endpoint"]
        labels = secret.inputs["metadata"]["labels"]
        assert (labels["environment"], labels["fleet/stack"]) == ("production", "prod")
    # The ApplicationSet's selector (environment: production) matches prod's clusters, not staging's.
    registered = hub.exports["argocd"]["registeredClusters"]
    assert {n for n, c in registered.items() if c["labels"].get("environment") == "production"} == {"prod-us", "prod-eu"}
    # Prod itself writes nothing on mgmt: no Secret, no provider for another stack's cluster, no Argo CD.
    assert not cluster_secrets(prod)
    assert {r.name for r in prod.of_type("pulumi:providers:kubernetes")} == {"prod-us-k8s", "prod-eu-k8s"}
    assert not [r for r in prod.of_type("kubernetes:helm.sh/v3:Release") if r.inputs["chart"] == "argo-cd"]
    entries = [e for e in prod.of_type("aws:eks/accessEntry:AccessEntry")]
    assert {e.inputs["clusterName"] for e in entries} == {"prod-us", "prod-eu"}
    assert {e.inputs["principalArn"] for e in entries} == {mgmt.exports["argocdHub"]["roleArn"]}
