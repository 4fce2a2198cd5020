"""fleet:argocd and fleet:hub validation: each rule with its path-named message."""

from __future__ import annotations

from typing import Any

import pytest

from offline.harness import stack_config
from tests.config_cases import problems_after, raw_prod


def only_problem(change: Any) -> str:
    problems = problems_after(change)
    assert len(problems) == 1, problems
    return problems[0]


def appset(raw: dict[str, Any]) -> dict[str, Any]:
    return dict(raw["argocd"]["applicationSets"][0])


def with_appset(**changes: Any) -> Any:
    def change(raw: dict[str, Any]) -> None:
        raw["argocd"]["applicationSets"][0].update(changes)

    return change


def test_argocd_needs_a_hub() -> None:
    def no_hub(raw: dict[str, Any]) -> None:
        raw["clusters"][0]["role"] = "member"
        raw.pop("submariner")

    assert only_problem(no_hub) == (
        "fleet:argocd: Argo CD runs on the hub, but no cluster has role: hub "
        "(or register into another stack's hub with fleet:hub)"
    )


def test_a_stack_with_a_hub_cannot_join_another() -> None:
    problems = problems_after(lambda raw: raw.update(hub={"stack": "organization/fleet/prod"}))
    assert problems == [
        "fleet:hub: this stack has its own hub (fleet:clusters[0], mgmt); "
        "a stack either runs a hub or registers into another stack's",
        "fleet:argocd: Argo CD runs in the hub's stack (organization/fleet/prod); declare ApplicationSets there",
    ]


def test_hub_stack_name_is_fully_qualified() -> None:
    raw = {key.removeprefix("fleet:"): value for key, value in stack_config("staging").items()}
    raw["hub"] = {"stack": "prod"}
    from components.config.errors import ConfigError
    from components.planning.checks import load_fleet

    with pytest.raises(ConfigError) as caught:
        load_fleet(raw)
    assert caught.value.problems == ["fleet:hub.stack: 'prod' is not a fully qualified stack name (organization/project/stack)"]


@pytest.mark.parametrize("url", ["github.com/myorg/gitops", "http://github.com/myorg/gitops", "https://", "ftp://x/y"])
def test_repo_url_is_a_git_url(url: str) -> None:
    message = only_problem(lambda raw: raw["argocd"]["repo"].update(url=url))
    assert message.startswith("fleet:argocd.repo.url: ")
    assert "is not a git URL" in message


def test_ssh_credentials_must_be_a_key() -> None:
    def ssh(raw: dict[str, Any]) -> None:
        raw["argocd"]["repo"].update(url="git@github.com:myorg/gitops.git", credentials="ghp_token")

    assert only_problem(ssh) == (
        "fleet:argocd.repo: credentials for an ssh URL must be an SSH private key (-----BEGIN ... PRIVATE KEY-----)"
    )


def test_https_credentials_must_be_a_token_and_are_never_echoed() -> None:
    secret = "two words"
    message = only_problem(lambda raw: raw["argocd"]["repo"].update(credentials=secret))
    assert message == "fleet:argocd.repo: credentials for an https URL must be an access token (one word, no key file)"
    assert secret not in message


@pytest.mark.parametrize("path", ["/apps/myapp", "apps/../secrets", "apps//myapp", "apps/my app"])
def test_paths_are_relative_and_inside_the_repo(path: str) -> None:
    message = only_problem(with_appset(path=path))
    expected = f"fleet:argocd.applicationSets[0].path: {path!r} is not a relative path inside the repository"
    assert message == f"{expected} (e.g. apps/myapp/overlays/prod)"


def test_revision_is_a_ref() -> None:
    assert only_problem(lambda raw: raw["argocd"]["repo"].update(revision="main branch")).startswith(
        "fleet:argocd.repo.revision: 'main branch' is not a git branch"
    )


def test_applicationset_names_are_dns_labels_and_unique() -> None:
    assert only_problem(with_appset(name="My_App")).startswith("fleet:argocd.applicationSets[0].name: ")

    def twice(raw: dict[str, Any]) -> None:
        raw["argocd"]["applicationSets"].append(appset(raw))

    assert (
        only_problem(twice)
        == "fleet:argocd.applicationSets[1].name: 'myapp' is already the name of fleet:argocd.applicationSets[0]"
    )


def test_selectors_are_label_selectors() -> None:
    message = only_problem(with_appset(selector={"environment": "prod uction"}))
    assert message.startswith("fleet:argocd.applicationSets[0].selector: ")


def test_templates_use_only_cluster_generator_parameters() -> None:
    message = only_problem(with_appset(path="apps/myapp/overlays/{{cluster}}"))
    assert message == (
        "fleet:argocd.applicationSets[0].path: {{cluster}} is not a cluster generator parameter "
        "(use name, nameNormalized, server, metadata.labels.<key>, metadata.annotations.<key>)"
    )


def test_a_selected_cluster_must_have_the_labels_the_template_uses() -> None:
    message = only_problem(lambda raw: raw["clusters"][2]["labels"].pop("overlay"))
    assert message == "fleet:argocd.applicationSets[0].path: cluster 'prod-eu' matches the selector but has no label 'overlay'"


def test_a_templated_namespace_must_render_to_a_dns_label() -> None:
    problems = problems_after(with_appset(namespace="{{metadata.labels.fleet/region}}-X"))
    assert [p.split(": '")[0] for p in problems] == [
        "fleet:argocd.applicationSets[0].namespace: for cluster 'prod-us'",
        "fleet:argocd.applicationSets[0].namespace: for cluster 'prod-eu'",
    ]
    assert "'us-east-1-X' is not a DNS-1123 label" in problems[0]


def test_ha_needs_three_hub_nodes() -> None:
    def small_hub(raw: dict[str, Any]) -> None:
        raw["clusters"][0]["nodeGroups"][0].update(minSize=2, desiredSize=2)

    assert only_problem(small_hub) == (
        "fleet:argocd.ha: redis-ha needs 3 nodes on the hub, "
        "but the node groups of fleet:clusters[0] (mgmt) have minSize 2 in total"
    )


def test_unknown_argocd_keys_are_refused() -> None:
    assert only_problem(with_appset(selfheal=True)) == (
        "fleet:argocd.applicationSets[0].selfheal: unknown key; did you mean 'selfHeal'?"
    )


def test_the_reference_stacks_are_valid() -> None:
    from components.planning.checks import load_fleet

    assert load_fleet(raw_prod()).gitops is not None
    staging = load_fleet({key.removeprefix("fleet:"): value for key, value in stack_config("staging").items()})
    assert staging.hub_stack is not None
    assert staging.hub is None
