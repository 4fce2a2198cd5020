import datetime as dt
from typing import Any

import yaml

from components.planning import eks_versions
from components.planning.eks_versions import support_warning
from offline.harness import ROOT, run_stack


def test_pulumi_yaml_default_is_the_newest_supported_version() -> None:
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    assert project["config"]["kubernetesVersion"]["default"] == eks_versions.NEWEST
    assert max(eks_versions.SUPPORT, key=lambda v: int(v.split(".")[1])) == eks_versions.NEWEST


def test_newest_version_is_in_standard_support_today() -> None:
    # Fails when the calendar overtakes the default: time to move NEWEST (and Pulumi.yaml) on.
    assert support_warning(eks_versions.NEWEST, dt.date.today()) is None


def test_standard_then_extended_then_past_support() -> None:
    assert support_warning("1.34", dt.date(2026, 12, 2)) is None
    assert "extended-support price" in (support_warning("1.34", dt.date(2026, 12, 3)) or "")
    assert "upgrade it automatically" in (support_warning("1.33", dt.date(2027, 7, 30)) or "")


def test_program_warns_about_a_version_past_standard_support() -> None:
    def old(config: dict[str, Any]) -> None:
        config["fleet:clusters"][2]["kubernetesVersion"] = "1.33"

    run = run_stack("prod", mutate=old)
    assert any(w.startswith("fleet:clusters[2].kubernetesVersion (prod-eu): Kubernetes 1.33 left EKS") for w in run.warnings), (
        run.warnings
    )
    assert run.named("prod-eu-eks").inputs["version"] == "1.33"
    assert run.named("prod-us-eks").inputs["version"] == eks_versions.NEWEST
