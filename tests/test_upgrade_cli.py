"""python -m deploy upgrade through the real Automation API against a fake `pulumi` on PATH: the
commands the campaign issues (select, config set --path, refresh, up with the policy pack), in order."""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
import sys
from pathlib import Path

import pytest

from deploy import upgrade
from deploy.runner import ROOT, ExitCode
from tests.test_upgrade_runner import NOW, Eks, FakeKubectl, queue_wave_eu, spec_at

FAKE_PULUMI = """#!{python}
import json, sys
args = [a for a in sys.argv[1:] if a != "--non-interactive"]
with open({log!r}, "a") as log:
    log.write(json.dumps(args) + "\\n")
if args[:1] == ["version"]:
    print("v3.272.0")
elif args[:2] == ["stack", "output"]:
    print("{{}}")
elif args[:2] == ["stack", "history"]:
    print(json.dumps([{{"kind": "update", "startTime": "2026-12-03T12:00:00.000Z", "message": "",
        "environment": {{}}, "config": {{}}, "result": "succeeded", "endTime": "2026-12-03T12:05:00.000Z",
        "resourceChanges": {{"same": 300, "update": 9}}}}]))
elif args[:1] in (["up"], ["refresh"]):
    print("Resources: 9 updated, 300 unchanged")
"""


@pytest.fixture
def fake_pulumi(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    log = tmp_path / "calls.jsonl"
    binary = tmp_path / "bin" / "pulumi"
    binary.parent.mkdir()
    binary.write_text(FAKE_PULUMI.format(python=sys.executable, log=str(log)))
    binary.chmod(binary.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{binary.parent}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("PULUMI_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PULUMI_SKIP_UPDATE_CHECK", "true")
    return log


def test_a_wave_goes_through_the_cli_in_order(fake_pulumi: Path) -> None:
    eks = Eks()
    queue_wave_eu(eks)
    spec = spec_at("1.34")
    from components.planning import upgrades

    runner = upgrade.Runner(
        spec,
        upgrades.plan_campaign(spec, "1.35"),
        upgrade._select,
        upgrade._up((ROOT / "policy",)),
        eks,
        FakeKubectl(),
        sleep=lambda seconds: None,
        now=lambda: NOW - dt.timedelta(minutes=1),
    )
    summary = upgrade.run_campaign("prod", runner)
    assert summary.exit_code == ExitCode.AWAITING_APPROVAL, summary.as_json()
    eks.done()
    calls = [json.loads(line) for line in fake_pulumi.read_text().splitlines()]
    verbs = [" ".join(c[:2]) for c in calls if c[:1] != ["version"]]
    config = next(c for c in calls if c[:2] == ["config", "set"])
    assert "--path" in config
    assert "fleet:clusters[2].kubernetesVersion" in config
    assert "1.35" in config
    first = {verb: next(i for i, v in enumerate(verbs) if v.startswith(verb)) for verb in ("config set", "refresh", "up")}
    assert first["config set"] < first["refresh"] < first["up"], verbs
    up = next(c for c in calls if c[:1] == ["up"])
    assert "--policy-pack" in up
    assert str(ROOT / "policy") in up
