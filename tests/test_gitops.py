"""Pure Argo CD objects: templates, selectors, generated Applications, manifests against the upstream CRDs."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from components.config.model import ApplicationSetSpec, ArgoCdSpec, GitRepoSpec, RootAppSpec
from components.planning import gitops
from tests.reference import chart_values, schema_errors, unknown_keys

REPO = GitRepoSpec(url="https://github.com/myorg/gitops")
MYAPP = ApplicationSetSpec(
    name="myapp",
    selector={"environment": "production"},
    path="apps/myapp/overlays/{{metadata.labels.overlay}}",
    namespace="myapp",
)
CLUSTERS = [
    gitops.RegisteredCluster("mgmt", gitops.IN_CLUSTER_SERVER, {"environment": "management"}),
    gitops.RegisteredCluster("prod-us", "https://us.example", {"environment": "production", "overlay": "production-us"}),
    gitops.RegisteredCluster("prod-eu", "https://eu.example", {"environment": "production", "overlay": "production-eu"}),
]


def test_the_seed_applicationset_yields_one_application_per_production_cluster() -> None:
    apps = gitops.generated_applications(MYAPP, CLUSTERS)
    assert [(a.name, a.cluster, a.path, a.namespace) for a in apps] == [
        ("myapp-prod-eu", "prod-eu", "apps/myapp/overlays/production-eu", "myapp"),
        ("myapp-prod-us", "prod-us", "apps/myapp/overlays/production-us", "myapp"),
    ]


def test_an_empty_selector_selects_every_cluster() -> None:
    every = MYAPP.model_copy(update={"selector": {}, "path": "apps/base"})
    assert [a.cluster for a in gitops.generated_applications(every, CLUSTERS)] == ["mgmt", "prod-eu", "prod-us"]


@pytest.mark.parametrize(
    ("template", "unknown"),
    [
        ("apps/{{name}}", []),
        ("apps/{{ nameNormalized }}/{{server}}", []),
        ("apps/{{metadata.labels.overlay}}/{{metadata.annotations.team}}", []),
        ("apps/{{cluster}}", ["cluster"]),
        ("apps/{{metadata.labels.}}", ["metadata.labels."]),
        ("apps/{{values.overlay}}", ["values.overlay"]),
    ],
)
def test_only_cluster_generator_parameters_are_allowed(template: str, unknown: list[str]) -> None:
    assert gitops.unknown_parameters(template) == unknown


@given(st.dictionaries(st.from_regex(r"[a-z]{1,8}", fullmatch=True), st.from_regex(r"[a-z0-9]{0,8}", fullmatch=True)))
def test_a_selector_matches_exactly_the_clusters_carrying_all_its_labels(selector: dict[str, str]) -> None:
    labels = {"environment": "production", "overlay": "production-us"}
    assert gitops.selects(selector, labels) == all(labels.get(k) == v for k, v in selector.items())
    assert gitops.selects({}, labels)
    assert gitops.selects(labels, labels)


def test_render_leaves_unknown_parameters_as_written() -> None:
    assert gitops.render("a/{{name}}/{{metadata.labels.x}}", {"name": "prod-us"}) == "a/prod-us/{{metadata.labels.x}}"


def test_cluster_secret_config_uses_iam_and_the_ca_never_a_token() -> None:
    config = json.loads(gitops.cluster_secret_config("prod-us", "Q0E="))
    assert config == {
        # No roleARN: argocd-k8s-auth signs with the pod's IRSA role, the principal members grant.
        "awsAuthConfig": {"clusterName": "prod-us"},
        "tlsClientConfig": {"insecure": False, "caData": "Q0E="},
    }
    assert "bearerToken" not in json.dumps(config)


def test_applicationset_manifest_validates_against_the_crd() -> None:
    manifest = gitops.application_set_manifest(MYAPP, REPO)
    assert schema_errors(manifest, "argo-cd/crd-applicationset.yaml") == []
    spec = manifest["spec"]
    assert spec["generators"] == [{"clusters": {"selector": {"matchLabels": {"environment": "production"}}}}]
    assert spec["syncPolicy"] == {"preserveResourcesOnDeletion": True}
    template = spec["template"]
    assert template["metadata"]["name"] == "myapp-{{name}}"
    assert template["spec"]["destination"] == {"server": "{{server}}", "namespace": "myapp"}
    assert template["spec"]["syncPolicy"]["automated"] == {"prune": True, "selfHeal": True}
    assert "CreateNamespace=true" in template["spec"]["syncPolicy"]["syncOptions"]


def test_the_schema_check_catches_a_misspelt_field() -> None:
    manifest = gitops.application_set_manifest(MYAPP, REPO)
    manifest["spec"]["syncPolicy"] = {"preserveResourceOnDeletion": True}
    assert schema_errors(manifest, "argo-cd/crd-applicationset.yaml") == [
        "spec/syncPolicy/preserveResourceOnDeletion: not in the schema (the API server would drop it)"
    ]
    manifest["spec"]["generators"] = "clusters"
    assert any(e.startswith("spec/generators: ") for e in schema_errors(manifest, "argo-cd/crd-applicationset.yaml"))


def test_root_application_validates_against_the_crd() -> None:
    manifest = gitops.root_application_manifest(RootAppSpec(path="clusters/mgmt"), REPO)
    assert schema_errors(manifest, "argo-cd/crd-application.yaml") == []
    assert manifest["spec"]["destination"] == {"server": gitops.IN_CLUSTER_SERVER, "namespace": "argocd"}


@pytest.mark.parametrize("ha", [False, True])
def test_chart_values_use_only_keys_the_chart_has(ha: bool) -> None:
    config = ArgoCdSpec(repo=REPO, ha=ha, admin={"enabled": True})
    values = gitops.argocd_values(config, "arn:aws:iam::1:role/hub", "$2a$10$hash")
    assert unknown_keys(values, "argo-cd") == []


def test_chart_defaults_are_secure() -> None:
    values = gitops.argocd_values(ArgoCdSpec(repo=REPO), "arn:role", None)
    assert values["configs"]["cm"]["admin.enabled"] is False
    assert values["configs"]["cm"]["exec.enabled"] is False
    assert values["configs"]["rbac"]["policy.default"] == "role:readonly"
    assert values["server"]["service"]["type"] == "ClusterIP"
    assert "secret" not in values["configs"]
    for component in ("controller", "server", "applicationSet"):
        assert values[component]["serviceAccount"]["annotations"] == {"eks.amazonaws.com/role-arn": "arn:role"}
    # The chart's own defaults would be less strict: the program sets each one explicitly.
    upstream = chart_values("argo-cd")
    assert upstream["configs"]["cm"]["admin.enabled"] is True
    assert upstream["configs"]["rbac"]["policy.default"] == ""


def test_ha_replicates_every_component_and_swaps_redis_for_redis_ha() -> None:
    values = gitops.argocd_values(ArgoCdSpec(repo=REPO, ha=True), "arn:role", None)
    assert {c: values[c]["replicas"] for c in ("controller", "server", "repoServer", "applicationSet")} == dict.fromkeys(
        ("controller", "server", "repoServer", "applicationSet"), 2
    )
    assert values["redis-ha"] == {"enabled": True}
    # The chart renders redis only when redis-ha is off, whatever redis.enabled says: not set (tests/test_charts.py).
    assert "redis" not in values
    plain = gitops.argocd_values(ArgoCdSpec(repo=REPO), "arn:role", None)
    assert (plain["redis-ha"], plain["redis"]) == ({"enabled": False}, {"enabled": True})


def test_service_account_names_match_the_charts() -> None:
    upstream = chart_values("argo-cd")
    names = {upstream[c]["serviceAccount"]["name"] for c in ("controller", "server", "applicationSet")}
    assert names == set(gitops.HUB_SERVICE_ACCOUNTS)


@pytest.mark.parametrize(
    ("url", "credentials", "expected"),
    [
        ("https://github.com/myorg/gitops", None, {"type": "git", "url": "https://github.com/myorg/gitops"}),
        (
            "https://github.com/myorg/gitops",
            "ghp_token",
            {"type": "git", "url": "https://github.com/myorg/gitops", "username": "git", "password": "ghp_token"},
        ),
        (
            "git@github.com:myorg/gitops.git",
            "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----\n",
            {
                "type": "git",
                "url": "git@github.com:myorg/gitops.git",
                "sshPrivateKey": "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----\n",
            },
        ),
    ],
)
def test_repository_secret_data(url: str, credentials: str | None, expected: dict[str, str]) -> None:
    assert gitops.repository_secret_data(GitRepoSpec(url=url, credentials=credentials)) == expected
