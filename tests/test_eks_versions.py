import datetime as dt
from typing import Any

import yaml

from components.aws import eks_versions
from components.aws.eks_versions import support_warning
from offline.harness import ROOT, run_stack


def test_pulumi_yaml_default_is_the_newest_supported_version() -> None:
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    assert project["config"]["kubernetesVersion"]["default"] == eks_versions.NEWEST
    assert max(eks_versions.SUPPORT, key=lambda v: int(v.split(".")[1])) == eks_versions.NEWEST


def test_newest_version_is_in_standard_support_on_the_pinned_day() -> None:
    # The suite's day (tests/conftest.py, FLEET_TODAY): move it, NEWEST and Pulumi.yaml on together.
    from components.config import clock

    assert support_warning(eks_versions.NEWEST, clock.today()) is None


def test_standard_support_ends_in_an_upgrade_by_eks_not_in_billing() -> None:
    # Defect 3: under STANDARD, EKS upgrades the cluster when standard support ends; nothing is billed extra.
    assert support_warning("1.35", dt.date(2026, 12, 3)) is None
    soon = support_warning("1.35", dt.date(2027, 3, 1))
    assert soon == "EKS upgrades Kubernetes 1.35 clusters (STANDARD support) by itself on 2027-03-27. Upgrade to 1.36."
    past = support_warning("1.34", dt.date(2026, 12, 3)) or ""
    assert "left EKS standard support on 2026-12-02" in past
    assert "the deploy refuses to ask EKS for 1.34 back (that is a rollback request)" in past
    assert "python -m plan <stack> --upgrade-to 1.35" in past
    assert "price" not in past


def test_extended_support_is_billed_then_ends_in_an_upgrade_by_eks() -> None:
    billed = support_warning("1.34", dt.date(2026, 12, 3), "EXTENDED") or ""
    assert "billed at the extended-support price" in billed
    assert "by itself on 2027-12-02" in billed
    assert "left EKS extended support on 2027-07-29" in (support_warning("1.33", dt.date(2027, 7, 30), "EXTENDED") or "")


def test_a_protected_cluster_due_for_an_upgrade_by_eks_is_warned_loudly_never_refused() -> None:
    # Issue 34, defect 1: the refusal also refused the campaign that upgrades the cluster.
    from components.config.version_rules import version_warnings
    from components.planning.checks import load_fleet
    from tests.config_cases import raw_prod

    raw = raw_prod()
    raw["clusters"][2]["kubernetesVersion"] = "1.34"
    (warning,) = [w for w in version_warnings(load_fleet(raw), dt.date(2026, 11, 20)) if "prod-eu" in w]
    assert warning.startswith("ACTION NEEDED: fleet:clusters[2].kubernetesVersion (prod-eu): EKS upgrades Kubernetes 1.34")
    assert "python -m plan <stack> --upgrade-to 1.35, then python -m deploy upgrade --stack <stack> --to 1.35" in warning
    raw["clusters"][2]["supportType"] = "EXTENDED"
    assert not [w for w in version_warnings(load_fleet(raw), dt.date(2026, 11, 20)) if "prod-eu" in w]
    raw["clusters"][2].pop("supportType")
    raw["protect"] = False
    (quiet,) = [w for w in version_warnings(load_fleet(raw), dt.date(2026, 11, 20)) if "prod-eu" in w]
    assert not quiet.startswith("ACTION NEEDED")


def test_program_warns_about_a_version_past_standard_support() -> None:
    def old(config: dict[str, Any]) -> None:
        config["fleet:clusters"][2].update(kubernetesVersion="1.33", supportType="EXTENDED")

    run = run_stack("fleet", mutate=old)
    assert any(w.startswith("fleet:clusters[2].kubernetesVersion (prod-eu): Kubernetes 1.33 left EKS") for w in run.warnings), (
        run.warnings
    )
    assert run.named("prod-eu-eks").inputs["version"] == "1.33"
    assert run.named("prod-us-eks").inputs["version"] == eks_versions.NEWEST
