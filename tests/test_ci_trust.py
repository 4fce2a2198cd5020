"""The CI trust boundary, read from the workflow files and docs/ci.md: pull-request code gets no secret
outside an environment that admits it, only main deploys, every action is pinned by commit, and the
documented OIDC trust policies bind each role to its environment and branch. zizmor audits the same
files as an independent reviewer."""

from __future__ import annotations

import fnmatch
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from offline.harness import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"
SETUP = ROOT / ".github" / "actions" / "fleet-setup" / "action.yml"
BIN = Path(sys.executable).parent
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")


def workflow(name: str) -> dict[str, Any]:
    document = yaml.safe_load((WORKFLOWS / name).read_text())
    document["on"] = document.pop(True)  # YAML 1.1 reads the bare key `on` as True
    return dict(document)


def every_uses() -> list[tuple[str, str]]:
    found = []
    for path in [*WORKFLOWS.glob("*.yml"), SETUP]:
        for line in path.read_text().splitlines():
            if match := re.match(r"^\s*-?\s*uses:\s*(\S+)(.*)$", line):
                found.append((match[1], match[2]))
    return found


def secret_leaks(document: dict[str, Any]) -> list[str]:
    """Where a secret reaches code outside a GitHub environment (whose protection would admit it)."""
    leaks = ["workflow-level env (reaches every job)"] if "secrets." in json.dumps(document.get("env", {})) else []
    for job_name, job in document["jobs"].items():
        if "secrets." in json.dumps(job) and "environment" not in job:
            leaks.append(f"job {job_name}")
    return leaks


@pytest.mark.parametrize("name", ["preview.yml", "deploy.yml"])
def test_no_secret_reaches_a_job_outside_an_environment(name: str) -> None:
    document = workflow(name)
    assert secret_leaks(document) == []
    # The jobs that run the change's own code (its conftest.py, .ci/run) hold no secret and no role.
    tests = document["jobs"]["tests"]
    assert "secrets." not in json.dumps(tests)
    assert tests["permissions"] == {"contents": "read"}


def test_the_previous_workflow_level_secrets_are_found() -> None:
    # The defect: PULUMI_CONFIG_PASSPHRASE and PULUMI_ACCESS_TOKEN in preview.yml's env reached `tests`.
    text = (
        (WORKFLOWS / "preview.yml")
        .read_text()
        .replace(
            "permissions: {}\n",
            "permissions: {}\n\nenv:\n  PULUMI_CONFIG_PASSPHRASE: ${{ secrets.PULUMI_CONFIG_PASSPHRASE }}\n",
            1,
        )
    )
    document = yaml.safe_load(text)
    assert secret_leaks(document) == ["workflow-level env (reaches every job)"]
    document["jobs"]["tests"]["env"] = {"TOKEN": "${{ secrets.PULUMI_ACCESS_TOKEN }}"}
    assert "job tests" in secret_leaks(document)


@pytest.mark.parametrize("name", ["preview.yml", "deploy.yml"])
def test_every_job_that_assumes_a_role_runs_in_an_environment(name: str) -> None:
    for job_name, job in workflow(name)["jobs"].items():
        assumes = job.get("permissions", {}).get("id-token") == "write"
        uses_setup = any(step.get("uses") == "./.github/actions/fleet-setup" for step in job.get("steps", []))
        assert assumes == uses_setup, f"{name}: {job_name} asks for an OIDC token only to assume a role"
        if assumes:
            assert job.get("environment"), f"{name}: {job_name} assumes a role outside any environment"


def test_only_main_deploys() -> None:
    document = workflow("deploy.yml")
    assert document["on"]["push"]["branches"] == ["main"]
    # workflow_dispatch can start on any branch: every job that deploys refuses any ref but main.
    assert "workflow_dispatch" in document["on"]
    deploying = [n for n, j in document["jobs"].items() if j.get("permissions", {}).get("id-token") == "write"]
    assert sorted(deploying) == [
        "mgmt",
        "prod",
        "prod-cells",
        "prod-join",
        "register",
        "staging",
        "staging-cells",
        "staging-join",
    ]
    for job_name in deploying:
        # A join or register round also runs after a failed cell (!cancelled()): the ref check comes first,
        # and is a conjunct of the whole condition (every || is inside parentheses).
        condition = " ".join(document["jobs"][job_name]["if"].split())
        assert condition.startswith("github.ref == 'refs/heads/main'"), job_name
        depth = 0
        for i, char in enumerate(condition):
            depth += {"(": 1, ")": -1}.get(char, 0)
            assert not (condition.startswith("||", i) and depth == 0), job_name


def test_previews_never_run_on_the_deploy_environments() -> None:
    job = workflow("preview.yml")["jobs"]["preview"]
    assert job["environment"].startswith("preview-")
    assert set(workflow("preview.yml")["on"]) == {"pull_request"}  # never pull_request_target


def test_every_remote_action_is_pinned_by_commit_with_its_version() -> None:
    remote = [(ref, rest) for ref, rest in every_uses() if not ref.startswith("./")]
    assert remote
    for ref, rest in remote:
        assert PINNED.match(ref), f"{ref} is not pinned to a commit"
        assert re.search(r"#\s*v\d+\.\d+\.\d+", rest), f"{ref}: say which release the commit is"


def test_no_checkout_persists_its_token() -> None:
    for name in ("preview.yml", "deploy.yml"):
        for job in workflow(name)["jobs"].values():
            for step in job["steps"]:
                if step.get("uses", "").startswith("actions/checkout@"):
                    assert step["with"]["persist-credentials"] is False


# ---------------------------------------------------------------- zizmor: the independent auditor


def zizmor(directory: Path) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("zizmor", path=str(BIN))
    assert binary, "zizmor is installed from requirements.txt"
    env = {"PATH": f"{BIN}:/usr/bin:/bin", "HOME": str(directory)}
    return subprocess.run(
        [binary, "--offline", "--format", "json", ".github"], cwd=directory, env=env, capture_output=True, text=True, check=False
    )


def test_zizmor_finds_nothing_in_the_workflows() -> None:
    result = zizmor(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout) == []


def test_every_zizmor_suppression_is_inline_with_a_reason() -> None:
    for path in [*WORKFLOWS.glob("*.yml"), SETUP]:
        for line in path.read_text().splitlines():
            if "zizmor: ignore" in line:
                assert re.search(r"zizmor: ignore\[[\w-]+\] \S.{10,}", line), f"{path.name}: {line.strip()}"
    assert not (ROOT / "zizmor.yml").exists()
    assert not (ROOT / ".github" / "zizmor.yml").exists()


@pytest.mark.parametrize(
    ("edit", "audit"),
    [
        (("actions/checkout@11d5960a326750d5838078e36cf38b85af677262 # v4.4.0", "actions/checkout@v4"), "unpinned-uses"),
        (
            (
                "        with:\n          persist-credentials: false\n      - uses: actions/setup-python",
                "      - uses: actions/setup-python",
            ),
            "artipacked",
        ),
    ],
    ids=["tag-pin", "persisted-token"],
)
def test_zizmor_catches_the_defects_it_is_here_for(tmp_path: Path, edit: tuple[str, str], audit: str) -> None:
    shutil.copytree(ROOT / ".github", tmp_path / ".github")
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    preview = tmp_path / ".github" / "workflows" / "preview.yml"
    assert edit[0] in preview.read_text()
    preview.write_text(preview.read_text().replace(edit[0], edit[1], 1))
    result = zizmor(tmp_path)
    assert result.returncode != 0
    assert audit in {finding["ident"] for finding in json.loads(result.stdout)}


# ---------------------------------------------------------------- the documented trust policies


def documented_trust_policies() -> list[dict[str, Any]]:
    text = (ROOT / "docs" / "ci.md").read_text()
    blocks = re.findall(r"```json\n(.*?)```", text, flags=re.S)
    return [p for p in (json.loads(b) for b in blocks if "AssumeRoleWithWebIdentity" in b)]


def admits(policy: dict[str, Any], claims: dict[str, str]) -> bool:
    """Whether IAM would let a token with ``claims`` assume the role (StringEquals / StringLike on
    single-valued keys, every condition of a statement must hold; IAM policy reference)."""
    for statement in policy["Statement"]:
        if statement["Effect"] != "Allow" or statement["Action"] != "sts:AssumeRoleWithWebIdentity":
            continue
        held = True
        for operator, conditions in statement.get("Condition", {}).items():
            for key, wanted in conditions.items():
                value = claims.get(key.removeprefix("token.actions.githubusercontent.com:"))
                options = wanted if isinstance(wanted, list) else [wanted]
                if operator == "StringEquals":
                    held &= value in options
                elif operator == "StringLike":
                    held &= value is not None and any(fnmatch.fnmatchcase(value, o) for o in options)
                else:
                    held = False
        if held:
            return True
    return False


def claims(environment: str, ref: str, repo: str = "myorg/fleet") -> dict[str, str]:
    """The token GitHub issues with the repository's subject template ["repo", "context", "ref"]."""
    return {"aud": "sts.amazonaws.com", "sub": f"repo:{repo}:environment:{environment}:ref:{ref}"}


def policy_for(environment: str) -> dict[str, Any]:
    found = [p for p in documented_trust_policies() if f":environment:{environment}:" in json.dumps(p)]
    assert len(found) == 1, f"docs/ci.md gives one trust policy for {environment}"
    return found[0]


@pytest.mark.parametrize("environment", ["management", "production", "staging"])
def test_each_deploy_role_admits_only_its_environment_on_main(environment: str) -> None:
    policy = policy_for(environment)
    assert admits(policy, claims(environment, "refs/heads/main"))
    # A branch, another environment, a pull request, another repository: refused.
    assert not admits(policy, claims(environment, "refs/heads/attacker"))
    assert not admits(policy, claims(environment, "refs/pull/7/merge"))
    assert not admits(policy, claims("preview-prod", "refs/heads/main"))
    assert not admits(policy, claims(environment, "refs/heads/main", repo="evilorg/fleet"))
    assert not admits(policy, {**claims(environment, "refs/heads/main"), "aud": "https://github.com/myorg"})
    others = {"management", "production", "staging"} - {environment}
    assert not any(admits(policy, claims(other, "refs/heads/main")) for other in others)


def test_the_deploy_workflows_environments_are_the_documented_ones() -> None:
    used = {job["environment"] for job in workflow("deploy.yml")["jobs"].values() if "environment" in job}
    assert used == {"management", "production", "staging"}
    for environment in used:
        policy_for(environment)


@pytest.mark.parametrize("stack", ["mgmt", "prod", "staging"])
def test_each_preview_role_admits_only_its_pull_request_previews(stack: str) -> None:
    policy = policy_for(f"preview-{stack}")
    assert admits(policy, claims(f"preview-{stack}", "refs/pull/12/merge"))
    assert not admits(policy, claims(f"preview-{stack}", "refs/heads/main"))
    assert not admits(policy, claims("production", "refs/pull/12/merge"))
    others = {"mgmt", "prod", "staging"} - {stack}
    assert not any(admits(policy, claims(f"preview-{o}", "refs/pull/12/merge")) for o in others)


def test_the_docs_give_the_subject_template_the_policies_rely_on() -> None:
    text = (ROOT / "docs" / "ci.md").read_text()
    assert '"include_claim_keys": ["repo", "context", "ref"]' in text
    assert "PUT /repos/{owner}/{repo}/actions/oidc/customization/sub" in text


@pytest.mark.parametrize("name", ["preview.yml", "deploy.yml"])
def test_secrets_reach_only_the_steps_that_run_pulumi(name: str) -> None:
    # Setup steps (pip installs, the composite action) run before the secrets are needed: they get none.
    for job_name, job in workflow(name)["jobs"].items():
        assert "secrets." not in json.dumps(job.get("env", {})), job_name
        for step in job["steps"]:
            if "secrets." in json.dumps(step):
                runs_pulumi = step.get("uses", "").startswith("pulumi/actions@") or "python -m deploy --stack" in step.get(
                    "run", ""
                )
                assert runs_pulumi, (job_name, step.get("name") or step.get("uses"))


def test_a_rerun_of_an_older_run_deploys_nothing() -> None:
    """GitHub re-runs keep the run's commit and its passed approvals: retrying one failed cell days later
    would roll it back. Every deploying job first checks that its commit is still main's head."""
    document = workflow("deploy.yml")
    deploying = [n for n, j in document["jobs"].items() if j.get("permissions", {}).get("id-token") == "write"]
    for job_name in deploying:
        steps = document["jobs"][job_name]["steps"]
        names = [step.get("name") or step.get("uses", "") for step in steps]
        check = names.index("Only main's head deploys")
        assert check < names.index("./.github/actions/fleet-setup"), job_name
        step = steps[check]
        assert '"repos/${GITHUB_REPOSITORY}/commits/main"' in step["run"]
        assert '[ "$head" != "$GITHUB_SHA" ]' in step["run"]
        assert step["env"] == {"GH_TOKEN": "${{ github.token }}"}
