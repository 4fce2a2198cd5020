"""Merging the fleet kubeconfig into an existing one, as docs/runbooks.md says to, checked with kubectl."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from components.planning.kubeconfig import ClusterAccess, build, render

pytestmark = pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl not installed")

EXISTING = {
    "apiVersion": "v1",
    "kind": "Config",
    "clusters": [{"name": "mgmt", "cluster": {"server": "https://old-mgmt.example"}}],
    "users": [{"name": "mgmt", "user": {"token": "old"}}],
    "contexts": [{"name": "mgmt", "context": {"cluster": "mgmt", "user": "mgmt"}}],
    "current-context": "mgmt",
}


def fleet(prefix: str) -> str:
    clusters = [
        ClusterAccess("mgmt", "us-east-1", "https://NEW.gr7.us-east-1.eks.amazonaws.com", "Q0E="),
        ClusterAccess("prod-us", "us-east-1", "https://PRODUS.gr7.us-east-1.eks.amazonaws.com", "Q0E="),
    ]
    return render(build(clusters, current="mgmt", prefix=prefix))


def merged(tmp_path: Path, fleet_text: str) -> dict[str, object]:
    """The runbook's merge: the existing file first, so nothing in it is overridden, then the fleet's."""
    existing, fleet_file = tmp_path / "config", tmp_path / "fleet"
    existing.write_text(yaml.safe_dump(EXISTING))
    fleet_file.write_text(fleet_text)
    env = {**os.environ, "KUBECONFIG": f"{existing}:{fleet_file}"}
    out = subprocess.run(["kubectl", "config", "view", "--flatten"], env=env, capture_output=True, text=True, check=True).stdout
    document: dict[str, object] = yaml.safe_load(out)
    return document


def servers(document: dict[str, object]) -> dict[str, str]:
    return {c["name"]: c["cluster"]["server"] for c in document["clusters"]}  # type: ignore[attr-defined]


def test_without_a_prefix_an_existing_context_silently_wins(tmp_path: Path) -> None:
    # Why the prefix exists: kubectl keeps the first file's "mgmt" and drops the fleet's, without a word.
    assert servers(merged(tmp_path, fleet("")))["mgmt"] == "https://old-mgmt.example"


def test_with_a_prefix_both_are_kept_and_reachable_by_name(tmp_path: Path) -> None:
    document = merged(tmp_path, fleet("prod-"))
    found = servers(document)
    assert found["mgmt"] == "https://old-mgmt.example"
    assert found["prod-mgmt"] == "https://NEW.gr7.us-east-1.eks.amazonaws.com"
    assert found["prod-prod-us"] == "https://PRODUS.gr7.us-east-1.eks.amazonaws.com"
    contexts = {c["name"] for c in document["contexts"]}  # type: ignore[attr-defined]
    assert {"mgmt", "prod-mgmt", "prod-prod-us"} <= contexts
    assert document["current-context"] == "mgmt", "the merge never switches your current context"


def test_plan_writes_the_fleet_kubeconfig_offline_and_kubectl_reads_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from plan.__main__ import main

    target = tmp_path / "fleet"
    assert main(["fleet", "--kubeconfig", str(target)]) == 0
    capsys.readouterr()
    assert target.stat().st_mode & 0o777 == 0o600
    listed = subprocess.run(
        ["kubectl", "--kubeconfig", str(target), "config", "get-contexts", "-o", "name"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert listed.stdout.split() == ["mgmt", "prod-eu", "prod-us"]
    document = yaml.safe_load(target.read_text())
    assert document["current-context"] == "mgmt"
    assert all(user["user"]["exec"]["command"] == "aws" for user in document["users"])
