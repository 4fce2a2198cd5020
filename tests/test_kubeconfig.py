"""The kubeconfig assembly, checked as data and by kubectl itself when it is installed."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from components.planning import kubeconfig
from components.planning.kubeconfig import ClusterAccess

US = ClusterAccess("prod-us", "us-east-1", "https://US.gr7.us-east-1.eks.amazonaws.com", "Q0FVUw==")
EU = ClusterAccess("prod-eu", "eu-west-1", "https://EU.gr7.eu-west-1.eks.amazonaws.com", "Q0FFVQ==")


def test_one_context_per_cluster_named_after_it() -> None:
    document = kubeconfig.build([US, EU])
    assert [c["name"] for c in document["contexts"]] == ["prod-eu", "prod-us"]
    assert [c["context"] for c in document["contexts"]] == [
        {"cluster": "prod-eu", "user": "prod-eu"},
        {"cluster": "prod-us", "user": "prod-us"},
    ]
    clusters = {c["name"]: c["cluster"] for c in document["clusters"]}
    assert clusters["prod-eu"] == {"server": EU.server, "certificate-authority-data": EU.certificate_authority_data}


def test_get_token_names_cluster_and_region_and_nothing_else() -> None:
    users = {u["name"]: u["user"]["exec"] for u in kubeconfig.build([US, EU])["users"]}
    assert users["prod-eu"]["command"] == "aws"
    assert users["prod-eu"]["args"] == [
        "--region",
        "eu-west-1",
        "eks",
        "get-token",
        "--cluster-name",
        "prod-eu",
        "--output",
        "json",
    ]
    assert users["prod-eu"]["apiVersion"] == "client.authentication.k8s.io/v1beta1"
    assert "env" not in users["prod-eu"], "no profile unless the stack config asks for one"


def test_profile_and_role_only_when_asked() -> None:
    access = ClusterAccess("prod-eu", "eu-west-1", EU.server, "x", profile="ops", role_arn="arn:aws:iam::123456789012:role/ops")
    exec_config = kubeconfig.build([access])["users"][0]["user"]["exec"]
    assert exec_config["env"] == [{"name": "AWS_PROFILE", "value": "ops"}]
    assert exec_config["args"][-2:] == ["--role-arn", "arn:aws:iam::123456789012:role/ops"]


def test_current_context() -> None:
    assert kubeconfig.build([US, EU])["current-context"] == "prod-eu"
    assert kubeconfig.build([US, EU], current="prod-us")["current-context"] == "prod-us"
    with pytest.raises(ValueError, match="not one of"):
        kubeconfig.build([US], current="mgmt")


def test_duplicate_names_are_refused() -> None:
    with pytest.raises(ValueError, match="duplicate"):
        kubeconfig.build([US, US])


MGMT = ClusterAccess("mgmt", "us-east-1", "https://M", "TQ==")


@given(st.permutations([US, EU, MGMT]))
def test_text_does_not_depend_on_order(order: list[ClusterAccess]) -> None:
    # A provider built from this text is replaced when it changes (pulumi-kubernetes#4019).
    assert kubeconfig.render(kubeconfig.build(order)) == kubeconfig.render(kubeconfig.build([MGMT, US, EU]))


def test_endpoint_from_the_pulumi_eks_kubeconfig() -> None:
    rendered = json.dumps(
        {"clusters": [{"name": "kubernetes", "cluster": {"server": "https://S", "certificate-authority-data": "Q0E="}}]}
    )
    assert kubeconfig.endpoint_from_eks_kubeconfig(rendered) == ("https://S", "Q0E=")


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_kubectl_reads_the_merged_kubeconfig(tmp_path: Path) -> None:
    path = tmp_path / "fleet"
    path.write_text(kubeconfig.render(kubeconfig.build([US, EU], current="prod-us")))
    contexts = subprocess.run(
        ["kubectl", "config", "get-contexts", "-o", "name", "--kubeconfig", str(path)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    assert contexts == ["prod-eu", "prod-us"]
    view = subprocess.run(
        ["kubectl", "config", "view", "--minify", "--context", "prod-eu", "-o", "json", "--kubeconfig", str(path)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    minified = json.loads(view)
    assert minified["clusters"][0]["cluster"]["server"] == EU.server
    assert minified["users"][0]["user"]["exec"]["args"][:2] == ["--region", "eu-west-1"]


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_kubectl_merges_it_with_another_kubeconfig(tmp_path: Path) -> None:
    fleet, other = tmp_path / "fleet", tmp_path / "other"
    fleet.write_text(kubeconfig.render(kubeconfig.build([US, EU])))
    other.write_text(yaml.safe_dump(kubeconfig.build([ClusterAccess("staging", "us-west-2", "https://ST", "U1Q=")])))
    merged = subprocess.run(
        ["kubectl", "config", "view", "--flatten", "-o", "json"],
        env={"KUBECONFIG": f"{fleet}:{other}", "PATH": "/usr/bin:/bin:/usr/local/bin"},
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert sorted(c["name"] for c in json.loads(merged)["contexts"]) == ["prod-eu", "prod-us", "staging"]
