"""What a newcomer's stack-file mistakes get: file, line, column and what is wrong, never a traceback."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import plan.__main__ as plan_main
from components.config.stack_files import SECRET_PLACEHOLDER, SSH_KEY_PLACEHOLDER, StackFileError, load_yaml, read_stack_file
from offline import stacks
from offline.harness import Run, run_program, stack_config

# The single-stack fleet (the hub and production in one stack): what a newcomer adapting one file writes.
FLEET_FILE = Path(__file__).resolve().parent / "stacks" / "Pulumi.fleet.yaml"

# A fourth cluster a newcomer adds to prod, in a region the reference stacks do not use.
PROD_AP = """
    - name: prod-ap
      region: ap-southeast-1
      vpcCidr: 10.50.0.0/16
      serviceCidr: 172.24.0.0/16
      labels:
        environment: production
        overlay: production-ap
      nodeGroups:
        - name: general
          instanceTypes: [m7i.xlarge]
          minSize: 2
          maxSize: 6
          desiredSize: 2
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "Pulumi.mine.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("config:\n  fleet:protect: true\n   fleet:apiAccessCidrs: []\n", "Pulumi.mine.yaml:3:"),
        (
            "config:\n\tfleet:protect: true\n",
            "Pulumi.mine.yaml:2:1: found character '\\t' that cannot start any token (YAML indents with spaces, never tabs)",
        ),
        ("", "Pulumi.mine.yaml:1:1: the file is empty; a stack file needs a `config:` section"),
        (
            "fleet:protect: true\n",
            "Pulumi.mine.yaml:1:1: no `config:` section (found fleet:protect); put the fleet:* keys under `config:`",
        ),
        ("- a\n- b\n", "expected a mapping with a `config:` section, found list"),
        # An unclosed bracket, brace or quote: where it opened, not where the parser gave up.
        (
            "config:\n  fleet:clusters: [a, b\n  fleet:protect: true\n",
            "Pulumi.mine.yaml:2:19: the [ opened here is never closed (expected ',' or ']', but got ':' at 3:16)",
        ),
        ("config:\n  fleet:x: {a: 1\n  fleet:protect: true\n", "Pulumi.mine.yaml:2:12: the { opened here is never closed"),
        ('config:\n  fleet:name: "abc\n  fleet:protect: true\n', "Pulumi.mine.yaml:2:15: the quote opened here is never closed"),
    ],
)
def test_yaml_mistakes_name_the_place(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(StackFileError) as caught:
        read_stack_file(write(tmp_path, text))
    assert message in str(caught.value)


def test_a_duplicated_key_is_refused_naming_both_lines(tmp_path: Path) -> None:
    # A node group's labels dedented one level: it becomes the cluster's second labels.
    text = """config:
  fleet:clusters:
    - name: a
      labels:
        environment: production
      nodeGroups:
        - name: general
      labels:
        workload: general
"""
    with pytest.raises(StackFileError) as caught:
        load_yaml(write(tmp_path, text))
    assert str(caught.value) == (
        f"{tmp_path}/Pulumi.mine.yaml:8:7: duplicate key 'labels' (first at line 4, column 7); "
        "YAML keeps only the last, so the first would be lost: check the indentation"
    )


def test_encrypted_values_become_placeholders_that_validate(tmp_path: Path) -> None:
    text = """config:
  fleet:submariner:
    psk:
      secure: v1:AAAABBBBCCCC
  fleet:argocd:
    repo:
      url: git@github.com:myorg/gitops
      credentials:
        secure: v1:DDDDEEEE
"""
    stack = read_stack_file(write(tmp_path, text))
    assert stack.secrets == ["fleet:submariner.psk", "fleet:argocd.repo.credentials"]
    assert stack.config["fleet:submariner"]["psk"] == SECRET_PLACEHOLDER
    assert stack.config["fleet:argocd"]["repo"]["credentials"] == SSH_KEY_PLACEHOLDER


@pytest.fixture
def own_stack(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A directory of stack files with the test's Pulumi.mine.yaml, as a newcomer adapting prod would write it."""
    monkeypatch.setattr(stacks, "STACK_DIR", tmp_path)
    return tmp_path / "Pulumi.mine.yaml"


def test_the_plan_accepts_secure_values_and_says_so(own_stack: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fleet = FLEET_FILE.read_text()
    own_stack.write_text(
        fleet.replace("    gatewaysPerCluster: 2\n", "    gatewaysPerCluster: 2\n    psk:\n      secure: v1:AAAABBBB\n")
    )
    assert plan_main.main(["Pulumi.mine.yaml"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(
        "warning: encrypted values (fleet:submariner.psk) cannot be decrypted offline: the plan uses placeholders for them\n"
    )


def test_the_plan_prints_yaml_mistakes_without_a_traceback(own_stack: Path, capsys: pytest.CaptureFixture[str]) -> None:
    own_stack.write_text("config:\n  fleet:protect: true\n\tfleet:apiAccessCidrs: []\n")
    assert plan_main.main(["mine"]) == 1
    err = capsys.readouterr().err
    assert "Pulumi.mine.yaml:3:1: found character '\\t'" in err
    assert "Traceback" not in err


def test_a_missing_stack_lists_the_available_ones(
    capsys: pytest.CaptureFixture[str], reference_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stacks, "STACK_DIR", reference_project)
    assert plan_main.main(["nope"]) == 1
    assert "(stacks here: mgmt, prod, staging)" in capsys.readouterr().err


def test_a_diagram_to_a_bad_path_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert plan_main.main(["staging", "--diagram", str(tmp_path / "missing-dir" / "fleet.mmd")]) == 1
    assert "cannot write the diagram to" in capsys.readouterr().err


def test_a_cluster_in_any_region_plans(capsys: pytest.CaptureFixture[str], own_stack: Path) -> None:
    # A newcomer's fourth cluster in Singapore, named in a DNS record: the plan used to crash (KeyError).
    fleet = FLEET_FILE.read_text()
    text = fleet.replace("\n  # Global traffic", PROD_AP + "\n  # Global traffic").replace(
        "          prod-eu: 30\n", "          prod-eu: 30\n          prod-ap: 10\n"
    )
    text = text.replace("    clusters: [mgmt, prod-us, prod-eu]\n", "    clusters: [mgmt, prod-us, prod-eu, prod-ap]\n")
    own_stack.write_text(text)
    assert plan_main.main(["mine"]) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert "prod-ap  ap-southeast-1  member" in out
    assert "prod-ap=10" in out


def test_an_unknown_region_is_refused_with_a_suggestion() -> None:
    from tests.config_cases import problems_after

    problems = problems_after(lambda raw: raw["clusters"][2].update(region="eu-wset-1"))
    assert problems == ["fleet:clusters[2].region: 'eu-wset-1' is not a region AWS has; did you mean 'eu-west-1'?"]


def test_more_zones_than_the_region_has_for_eks_is_refused_before_deploy() -> None:
    from tests.config_cases import problems_after

    problems = problems_after(lambda raw: raw["clusters"][2].update(availabilityZones=4))
    assert problems == [
        "fleet:clusters[2]: availabilityZones 4: eu-west-1 has 3 zones EKS accepts (euw1-az1, euw1-az2, euw1-az3)"
    ]


# ---------------------------------------------------------------- the "tear a cluster down" runbook, offline


def test_retiring_a_prod_cluster_step_by_step() -> None:
    from offline.policy_view import violations

    # The fleet's config deployed as a stack named prod, which the policy pack protects.
    def run_stack(_: str, mutate: Any) -> Run:
        config = stack_config("fleet")
        mutate(config)
        return run_program(config, stack="prod")

    # Step 0: what the runbook used to say (fleet:protect: false) fails the mandatory policy.
    unprotected = run_stack("prod", mutate=lambda c: c.update({"fleet:protect": False}))
    assert violations(unprotected)["prod-clusters-protected"]

    # The runbook's steps (tests/test_transition.py replays them as transitions).
    from tests.config_cases import retire_steps

    step1, _step2, step3 = retire_steps()

    # Step 1: mark prod-eu retiring: only it loses protection.
    run = run_stack("prod", mutate=step1)
    assert violations(run)["prod-clusters-protected"] == []
    assert not run.named("prod-eu-eks").protect
    assert run.named("prod-eu-eks").inputs["deletionProtection"] is False
    assert not run.named("prod-eu-network-vpc").protect
    assert run.named("prod-us-eks").protect, "the others keep their protection"

    # Step 3: remove the entry: nothing of prod-eu is left, and the policy still passes.
    gone = run_stack("prod", mutate=step3)
    assert not [r for r in gone.registrations.values() if r.name.startswith("prod-eu")]
    assert not any(violations(gone).values())


def test_a_retiring_cluster_may_still_be_named_by_dns() -> None:
    # Tear-down step 1 lifts protection while the cluster still serves: the step that deletes its
    # edge and pool addresses must find them unprotected (tests/test_transition.py replays it).
    from components.planning.checks import load_fleet
    from tests.config_cases import raw_prod

    raw = raw_prod()
    raw["clusters"][2]["retiring"] = True
    spec = load_fleet(raw)
    assert "prod-eu" in spec.served_clusters()
    assert not spec.protects(spec.clusters[2])


def test_a_yaml_boolean_label_says_quote_it() -> None:
    from tests.config_cases import problems_after

    problems = problems_after(lambda raw: raw["clusters"][1]["labels"].update(canary=True))
    assert problems == ['fleet:clusters[1].labels: label canary: True is a YAML boolean; quote it: canary: "true"']


def test_a_version_warning_names_the_next_minor() -> None:
    import datetime as dt

    from components.aws import eks_versions

    warning = eks_versions.support_warning("1.33", dt.date(2026, 11, 24))
    assert warning is not None
    assert warning.endswith(
        "Upgrade to 1.34 (EKS upgrades one minor version at a time), then on towards 1.35: python -m plan <stack> "
        "--upgrade-to 1.34, then python -m deploy upgrade --stack <stack> --to 1.34."
    )
    assert (eks_versions.support_warning("1.34", dt.date(2026, 12, 3), "EXTENDED") or "").endswith(
        "Upgrade to 1.35: python -m plan <stack> --upgrade-to 1.35, then python -m deploy upgrade --stack <stack> --to 1.35."
    )


def test_shape_errors_and_fleet_wide_ones_come_in_one_round() -> None:
    from tests.config_cases import problems_after

    def two_kinds(raw: dict[str, Any]) -> None:
        raw["clusters"][1]["nodeGroups"][0]["minSize"] = -1  # a shape error
        raw["clusters"][2]["vpcCidr"] = "10.20.0.0/16"  # overlaps prod-us: a fleet-wide one
        raw["dns"]["records"][0]["weights"]["prod-ap"] = 5  # names a cluster that does not exist

    problems = problems_after(two_kinds)
    assert any(p.startswith("fleet:clusters[1].nodeGroups[0].minSize:") for p in problems)
    assert "fleet:clusters[2].vpcCidr: 10.20.0.0/16 overlaps fleet:clusters[1].vpcCidr (10.20.0.0/16)" in problems
    assert "fleet:dns.records[0].weights.prod-ap: no cluster named 'prod-ap' in fleet:clusters" in problems


def test_the_plan_shows_what_adding_a_cluster_changes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # What the "Add a cluster" runbook (docs/runbooks.md) says: the new cluster's resources, plus the broker's
    # allow list, every peer's gateway prefix list and the broker's account for it.
    fleet = FLEET_FILE.read_text()
    proposed = tmp_path / "Pulumi.fleet.yaml"
    proposed.write_text(
        fleet.replace("\n  # Global traffic", PROD_AP + "\n  # Global traffic").replace(
            "    clusters: [mgmt, prod-us, prod-eu]\n", "    clusters: [mgmt, prod-us, prod-eu, prod-ap]\n"
        )
    )
    assert plan_main.main(["fleet", "--compare", str(proposed)]) == 0
    out = capsys.readouterr().out
    compared = out[out.index("Compared with Pulumi.fleet.yaml") :]
    listed = listed_changes(compared)
    assert {
        "mgmt-eks",
        "mgmt-submariner-peer-gateways",
        "prod-us-submariner-peer-gateways",
        "prod-eu-submariner-peer-gateways",
    } <= {name for action, _, name in listed if action == "update"}
    assert ("create", "eks:index:Cluster", "prod-ap-eks") in listed
    assert ("create", "kubernetes:core/v1:ServiceAccount", "submariner-broker-prod-ap-sa") in listed
    assert compared.splitlines()[0].endswith(", 0 to replace, 0 to delete")
    assert "No step breaks an AWS or Pulumi rule." in compared


def listed_changes(compared: str) -> set[tuple[str, str, str]]:
    """(action, type, name) for every resource `--compare` lists."""
    found, heading = set(), ("", "")
    for line in compared.splitlines():
        if line.startswith("  ") and not line.startswith("    ") and line.split()[0] in ("create", "update", "replace", "delete"):
            action, type_token = line.split()
            heading = (action, type_token)
        elif line.startswith("    ") and heading[0]:
            found.add((*heading, line.split()[0]))
    return found
