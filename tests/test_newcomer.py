"""A newcomer's second hour (issue 35): every shipped stack and a user's new one, run as the README
says, ends in one clear answer; no traceback."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.config import hub_stack
from offline import stacks
from tests import reference_stacks
from tests.reference_stacks import ROOT

SHIPPED = ("mgmt", "prod", "staging", "fleet")


def user_project(directory: Path) -> Path:
    """The test project plus a user's new stack, dev: staging's file with its own cluster, range and deploy role."""
    project = directory / "project"
    shutil.copytree(reference_stacks.test_project(), project)
    dev = yaml.safe_load((ROOT / "Pulumi.staging.yaml").read_text())
    config = dev["config"]
    config["fleet:clusters"][0].update(name="dev-us", vpcCidr="10.41.0.0/16")
    config["fleet:deployer"] = {**config["fleet:deployer"], "principal": "arn:aws:iam::123456789012:role/fleet-deploy-dev"}
    (project / "Pulumi.dev.yaml").write_text(yaml.safe_dump(dev, sort_keys=False))
    return project


@pytest.fixture
def in_user_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    project = user_project(tmp_path)
    monkeypatch.setattr(stacks, "STACK_DIR", project)
    monkeypatch.setattr(hub_stack, "PROJECT_DIR", project)
    return project


def compare(stack: str, changed: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    from plan import __main__ as plan_main

    status = plan_main.main([stack, "--compare", str(changed), *extra])
    captured = capsys.readouterr()
    return status, captured.out + captured.err


@pytest.mark.parametrize("stack", SHIPPED)
def test_compare_with_an_unchanged_copy_says_no_changes(stack: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Defect 1: the changed config ran as prod's deploy role, so every other stack's deployer check failed.
    copy = tmp_path / f"Pulumi.{stack}.yaml"
    shutil.copy(stacks.stack_path(stack), copy)
    status, out = compare(stack, copy, capsys)
    assert (status, out.splitlines()[-1]) == (0, f"Compared with Pulumi.{stack}.yaml: no changes."), out
    assert "Traceback" not in out


def test_compare_on_a_users_new_stack_runs_as_its_deployer(in_user_project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    copy = in_user_project.parent / "Pulumi.dev.yaml"
    shutil.copy(in_user_project / "Pulumi.dev.yaml", copy)
    status, out = compare("dev", copy, capsys)
    assert (status, out.splitlines()[-1]) == (0, "Compared with Pulumi.dev.yaml: no changes."), out


def test_compare_previews_the_deploy_role_rotation_as_the_new_role(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The rotation runbook previews each step with --compare: step 2 runs as NEW on OLD's clusters.
    old = "arn:aws:iam::123456789012:role/fleet-deploy-staging"
    new = "arn:aws:iam::123456789012:role/fleet-deploy-staging-2"
    steps: list[dict[str, Any]] = []
    for admins, deployer in (([new], {"principal": old}), ([new], {"principal": new, "creator": old})):
        config = yaml.safe_load(stacks.stack_path("staging").read_text())
        config["config"]["fleet:clusterAdmins"] = [*config["config"].get("fleet:clusterAdmins", []), *admins]
        config["config"]["fleet:deployer"] = {**config["config"]["fleet:deployer"], **deployer}
        steps.append(config)
    files = []
    for number, config in enumerate(steps, start=1):
        files.append(tmp_path / f"step{number}" / "Pulumi.staging.yaml")
        files[-1].parent.mkdir()
        files[-1].write_text(yaml.safe_dump(config, sort_keys=False))
    status, out = compare("staging", files[0], capsys)
    assert status == 0, out
    status, out = compare("staging", files[0], capsys, "--to", str(files[1]))
    assert status == 0, out
    assert out.splitlines()[-1] == f"Compared with {files[0]}: no changes."
