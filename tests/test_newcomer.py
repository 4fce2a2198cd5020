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


# ---------------------------------------------------------------- stack files a newcomer saves wrongly


def latin1_copy(source: Path, target: Path) -> Path:
    """``source`` with a comment saved as Latin-1 (what a Windows editor may write): a lone 0xe9."""
    lines = source.read_bytes().split(b"\n")
    at = lines.index(b"config:") + 1
    lines.insert(at, b"  # caf\xe9 owns this stack")
    target.write_bytes(b"\n".join(lines))
    return target


def test_a_byte_that_is_not_utf8_is_named_by_file_line_and_column(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Defect 2: a raw UnicodeDecodeError traceback that named no file.
    changed = latin1_copy(stacks.stack_path("staging"), tmp_path / "Pulumi.staging.yaml")
    line = changed.read_bytes().split(b"\n").index(b"  # caf\xe9 owns this stack") + 1
    status, out = compare("staging", changed, capsys)
    assert status == 1
    assert out.strip() == (
        f"{changed}:{line}:8: byte 0xe9 is not UTF-8 (invalid continuation byte); the file was saved in another "
        "encoding: save it as UTF-8 (e.g. iconv -f latin1 -t utf-8), or retype the character"
    )


def test_a_broken_encoding_in_another_stack_file_stops_only_what_reads_it(
    in_user_project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from plan import __main__ as plan_main

    latin1_copy(in_user_project / "Pulumi.dev.yaml", in_user_project / "Pulumi.dev.yaml")
    assert plan_main.main(["prod"]) == 0
    assert plan_main.main(["mgmt"]) == 0
    capsys.readouterr()
    assert plan_main.main(["--all"]) == 1
    err = capsys.readouterr().err
    assert f"{in_user_project / 'Pulumi.dev.yaml'}:" in err
    assert "is not UTF-8" in err
    assert "Traceback" not in err


def test_the_config_env_limit_is_the_kernels(tmp_path: Path) -> None:
    # The independent oracle: this machine's exec refuses one byte past MAX_ARG_STRLEN, as the
    # language host's exec of the program would.
    import errno
    import subprocess
    import sys

    from components.aws import pulumi_engine

    room = pulumi_engine.MAX_ARG_STRLEN - len(f"{pulumi_engine.CONFIG_ENV_VAR}=") - 1
    subprocess.run([sys.executable, "-c", ""], env={pulumi_engine.CONFIG_ENV_VAR: "x" * room}, check=True)
    with pytest.raises(OSError) as refused:
        subprocess.run([sys.executable, "-c", ""], env={pulumi_engine.CONFIG_ENV_VAR: "x" * (room + 1)}, check=True)
    assert refused.value.errno == errno.E2BIG


@pytest.mark.parametrize(("tags", "fits"), [(600, True), (700, False)])
def test_a_config_pulumi_cannot_pass_to_the_program_is_refused(tags: int, fits: bool, tmp_path: Path) -> None:
    from components.aws import pulumi_engine
    from components.config.stack_files import StackFileError, read_stack_file

    config = yaml.safe_load(stacks.stack_path("prod").read_text())
    config["config"]["fleet:clusters"][0]["tags"] = {f"k{i}": "x" * 200 for i in range(tags)}
    path = tmp_path / "Pulumi.prod.yaml"
    path.write_text(yaml.safe_dump(config))
    size = pulumi_engine.config_env_bytes(config["config"])
    assert (size <= pulumi_engine.MAX_ARG_STRLEN) == fits
    if fits:
        assert read_stack_file(path).config["fleet:clusters"][0]["tags"]["k0"] == "x" * 200
        return
    with pytest.raises(StackFileError) as refused:
        read_stack_file(path)
    assert str(refused.value).startswith(f"{path}: its config is {size:,} bytes as Pulumi passes it")
    assert "The largest key is fleet:clusters; split the fleet into stacks" in str(refused.value)


def test_a_stack_file_of_megabytes_is_refused_before_parsing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Defect 3: a 5 MB stack file planned without a word.
    huge = tmp_path / "Pulumi.prod.yaml"
    huge.write_text(stacks.stack_path("prod").read_text() + "#" * 5_000_000 + "\n")
    status, out = compare("prod", huge, capsys)
    assert status == 1
    assert out.strip().startswith(f"{huge}: 5,00")
    assert "the tools refuse stack files over 1,048,576 bytes" in out
