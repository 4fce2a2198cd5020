"""A newcomer's second hour (issue 35): every shipped stack and a user's new one, run as the README
says, ends in one clear answer; no traceback."""

from __future__ import annotations

import copy
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
    """The shipped stacks plus a user's new stack, dev: staging's file with its own cluster, range and deploy role."""
    project = directory / "project"
    shutil.copytree(reference_stacks.reference_project(), project)
    dev = yaml.safe_load((ROOT / "Pulumi.staging.yaml").read_text())
    config = dev["config"]
    config["fleet:clusters"][0].update(name="dev-us", vpcCidr="10.41.0.0/16")
    config["fleet:deployer"] = {**config["fleet:deployer"], "principal": "arn:aws:iam::123456789012:role/fleet-deploy-dev"}
    # One account, one region: EC2's vCPU quota there holds both stacks' groups, and each file declares it.
    config["fleet:quotas"] = {"regions": {"us-west-2": {"onDemandVcpus": {"Standard": 32}}}}
    (project / "Pulumi.dev.yaml").write_text(yaml.safe_dump(dev, sort_keys=False))
    staging = yaml.safe_load((project / "Pulumi.staging.yaml").read_text())
    staging["config"]["fleet:quotas"] = config["fleet:quotas"]
    (project / "Pulumi.staging.yaml").write_text(yaml.safe_dump(staging, sort_keys=False))
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

    # MAX_ARG_STRLEN is 32 pages: the constant is x86_64's 4 KiB pages, the smallest (64 KiB-page
    # arm64 hosts allow more, so the check stays on the safe side there).
    import os
    import subprocess
    import sys

    from components.aws import pulumi_engine

    limit = 32 * os.sysconf("SC_PAGE_SIZE")
    assert limit >= pulumi_engine.MAX_ARG_STRLEN
    room = limit - len(f"{pulumi_engine.CONFIG_ENV_VAR}=") - 1
    subprocess.run([sys.executable, "-c", ""], env={pulumi_engine.CONFIG_ENV_VAR: "x" * room}, check=True)
    with pytest.raises(OSError, match="Argument list too long") as refused:
        subprocess.run([sys.executable, "-c", ""], env={pulumi_engine.CONFIG_ENV_VAR: "x" * (room + 1)}, check=True)
    assert refused.value.errno == errno.E2BIG


def test_the_config_is_measured_as_go_encodes_it() -> None:
    # Known answers from Go's encoding/json rules (HTML-safe escapes of <, > and &; UTF-8 kept; map
    # keys sorted) applied twice, as pulumi's config marshals an object value and the language host
    # the map: the review found the first estimate off in both directions.
    from components.aws import pulumi_engine

    config = {"fleet:tags": {"team": "R&D <ops>", "owner": "Zoë"}, "fleet:protect": True, "fleet:name": "a&b"}
    expected = (
        'PULUMI_CONFIG={"fleet:name":"a\\u0026b","fleet:protect":"true",'
        '"fleet:tags":"{\\"owner\\":\\"Zoë\\",\\"team\\":\\"R\\\\u0026D \\\\u003cops\\\\u003e\\"}"}'
    )
    assert pulumi_engine.config_env(config) == expected
    assert pulumi_engine.config_env_bytes(config) == len(expected.encode()) + 1
    assert len("Zoë".encode()) == 4  # counted as UTF-8 bytes, not as an escape
    # Go writes an integral float as an integer, and Pulumi's config a YAML date as text.
    import datetime

    dated = {"fleet:labels": {"since": datetime.date(2024, 5, 1), "weight": 1.0, "huge": 1e20}}
    assert pulumi_engine.config_env(dated) == (
        'PULUMI_CONFIG={"fleet:labels":"{\\"huge\\":100000000000000000000,\\"since\\":\\"2024-05-01\\",\\"weight\\":1}"}'
    )


def test_keys_yaml_reads_as_booleans_or_numbers_are_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The review's traceback: `on:` is a boolean key to YAML, and a number key broke the size check.
    changed = tmp_path / "Pulumi.staging.yaml"
    text = stacks.stack_path("staging").read_text().replace("config:\n", "config:\n  1: one\n", 1)
    changed.write_text(text.replace("environment: staging", "environment: staging\n        on: x", 1))
    status, out = compare("staging", changed, capsys)
    assert status == 1
    assert out.strip() == (
        f"{changed}: config: key 1 is a int; fleet:clusters[0].labels: key True is a bool: YAML reads unquoted on, off, "
        "yes, no, true and false as booleans and digits as numbers, but config keys are names: quote them"
    )


@pytest.mark.parametrize(("tags", "fits"), [(550, True), (700, False)])
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


# ---------------------------------------------------------------- instance types EC2 would not launch


def with_training_group(stack: str, instance_type: str, max_size: int, quotas: dict[str, Any] | None = None) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(stacks.stack_path(stack).read_text())
    for cluster in document["config"]["fleet:clusters"]:
        cluster["nodeGroups"].append(
            {"name": "train", "instanceTypes": [instance_type], "minSize": 0, "desiredSize": 0, "maxSize": max_size}
        )
    if quotas is not None:
        document["config"]["fleet:quotas"] = quotas
    return document


def preflight_of(document: dict[str, Any]) -> Any:
    from components.planning import preflight
    from components.planning.checks import load_fleet

    return preflight.run(load_fleet({k.removeprefix("fleet:"): v for k, v in document["config"].items()}))


def test_a_hundred_p5_nodes_are_named_against_the_p_quota_and_where_ec2_offers_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Defect 3: 100 x p5.48xlarge planned with exit 0. EC2 offers p5.48xlarge in us-east-1, not in eu-west-1.
    document = with_training_group("prod", "p5.48xlarge", 100)
    checked = preflight_of(document)
    (missing,) = checked.errors
    assert missing.startswith(
        "fleet:clusters[1].nodeGroups[2] (prod-eu/train, eu-west-1, zones euw1-az1, euw1-az2, euw1-az3): p5.48xlarge "
        "not offered in the region (components/aws/instance_offerings.py"
    )
    assert "EKS refuses to create a node group with a type a zone of its subnets lacks" in missing
    (us,) = [w for w in checked.warnings if w.startswith("us-east-1: On-Demand P instances (vCPUs)")]
    # 100 nodes, and 2 per zone while EKS updates the group: 106 x 192 vCPUs.
    assert "prod-us/train:p5.48xlarge at maxSize, with EKS's update surge, need 20352 vCPUs (L-417A185B" in us
    assert "AWS's default is 0" in us
    assert "--quota-code L-417A185B --desired-value 20352 --region us-east-1" in us
    assert "declare fleet:quotas.regions.us-east-1.onDemandVcpus.P: 20352" in us
    changed = tmp_path / "Pulumi.prod.yaml"
    changed.write_text(yaml.safe_dump(document, sort_keys=False))
    status, out = compare("prod", changed, capsys)
    assert status == 1
    assert "would stop at the preflight" in out


def test_a_declared_quota_below_the_need_is_an_error() -> None:
    quotas = yaml.safe_load(stacks.stack_path("prod").read_text())["config"]["fleet:quotas"]
    quotas["regions"]["us-east-1"]["onDemandVcpus"]["P"] = 384
    document = with_training_group("prod", "p5.48xlarge", 100, quotas)
    document["config"]["fleet:clusters"][1]["nodeGroups"].pop()  # only prod-us trains
    checked = preflight_of(document)
    (error,) = checked.errors
    assert error.startswith(
        "us-east-1: On-Demand P instances (vCPUs): prod-us/train:p5.48xlarge at maxSize, with EKS's update surge, need 20352"
    )
    assert "fleet:quotas declares 384" in error


def test_spot_p5_counts_against_its_own_spot_quota() -> None:
    document = with_training_group("prod", "p5.48xlarge", 2)
    document["config"]["fleet:clusters"][1]["nodeGroups"].pop()
    document["config"]["fleet:clusters"][0]["nodeGroups"][-1]["capacityType"] = "SPOT"
    (spot,) = [w for w in preflight_of(document).warnings if "Spot P5 instances" in w]
    assert "need 1536 vCPUs (L-C4BD4855" in spot  # (2 + 2 per zone) x 192


@pytest.mark.parametrize(
    ("instance_type", "klass", "on_demand"),
    [
        ("m7i.xlarge", "Standard", "L-1216C47A"),
        ("m7g.large", "Standard", "L-1216C47A"),
        ("t3.medium", "Standard", "L-1216C47A"),
        ("inf2.xlarge", "Inf", "L-1945791B"),
        ("i4i.large", "Standard", "L-1216C47A"),
        ("trn1.32xlarge", "Trn", "L-2C3B7624"),
        ("t4g.large", "Standard", "L-1216C47A"),
        ("g6.xlarge", "G", "L-DB2E81BA"),
        ("gr6.4xlarge", "G", "L-DB2E81BA"),
        ("vt1.3xlarge", "G", "L-DB2E81BA"),
        ("p4d.24xlarge", "P", "L-417A185B"),
        ("dl1.24xlarge", "DL", "L-6E869C2A"),
        ("d3.xlarge", "Standard", "L-1216C47A"),
        ("hpc7g.16xlarge", "HPC", "L-F7808C92"),
        ("h1.2xlarge", "Standard", "L-1216C47A"),
        ("u7i-12tb.224xlarge", "HighMem", "L-43DA4232"),
        ("x2idn.16xlarge", "X", "L-7295265B"),
        ("f2.12xlarge", "F", "L-74FC7D96"),
        ("mac2.metal", None, None),
    ],
)
def test_each_family_counts_against_the_quota_its_letter_names(
    instance_type: str, klass: str | None, on_demand: str | None
) -> None:
    from components.aws import ec2_quotas

    assert ec2_quotas.vcpu_class(instance_type) == klass
    assert ec2_quotas.quota_code(instance_type, spot=False) == on_demand


def test_every_type_ec2_describes_has_a_quota_class_but_mac() -> None:
    # Against EC2's own list of types (moto's copy of DescribeInstanceTypes): a new family letter
    # fails here instead of counting against nothing.
    from components.aws import ec2_quotas, ec2_sizes

    unclassified = [t for t in ec2_sizes._sizes() if ec2_quotas.vcpu_class(t) is None and not t.startswith("mac")]
    assert unclassified == []


def test_the_ec2_data_is_what_the_pinned_moto_ships() -> None:
    from offline import ec2_data

    assert ec2_data.stale() == []


def test_a_type_missing_from_one_zone_of_the_group_is_an_error() -> None:
    # EKS's CreateNodegroup refuses a type one subnet's zone lacks (400 InvalidRequestException). EC2
    # offers p5en.48xlarge in use1-az2 and use1-az6 only, and prod-us spans use1-az1, -az2 and -az4.
    from components.aws import instance_offerings

    assert instance_offerings.offered_zones("p5en.48xlarge", "us-east-1") == ("use1-az2", "use1-az6")
    document = with_training_group("prod", "p5en.48xlarge", 1)
    document["config"]["fleet:clusters"][1]["nodeGroups"].pop()
    (error,) = preflight_of(document).errors
    assert error.startswith(
        "fleet:clusters[0].nodeGroups[3] (prod-us/train, us-east-1, zones use1-az1, use1-az2, use1-az4): p5en.48xlarge "
        "not offered in use1-az1, use1-az4"
    )


def test_a_region_the_copy_does_not_know_is_said_not_checked() -> None:
    document = with_training_group("staging", "m7i.large", 1)
    document["config"]["fleet:clusters"][0]["region"] = "mx-central-1"
    warnings = preflight_of(document).warnings
    assert (
        "mx-central-1: components/aws/instance_offerings.py has no offerings for this region: its instance types are "
        "not checked (aws ec2 describe-instance-type-offerings --location-type availability-zone-id)" in warnings
    )


def test_the_offerings_answer_as_ec2_does() -> None:
    from components.aws import instance_offerings

    assert instance_offerings.offered_zones("p5.48xlarge", "eu-west-1") == ()
    assert "use1-az1" in (instance_offerings.offered_zones("p5.48xlarge", "us-east-1") or ())
    assert instance_offerings.offered_zones("m99.xlarge", "us-east-1") is None  # a type EC2 did not describe
    assert instance_offerings.offered_zones("m7i.xlarge", "xx-nowhere-1") is None


# ---------------------------------------------------------------- grants to other AWS accounts

PARTNER = "arn:aws:iam::999999999999:role/partner-admin"


def validated(mutate: Any) -> Any:
    from components.planning.checks import load_fleet

    raw = {k.removeprefix("fleet:"): v for k, v in yaml.safe_load(stacks.stack_path("prod").read_text())["config"].items()}
    mutate(raw)
    return load_fleet(raw)


def test_admin_for_another_accounts_principal_is_refused_unless_the_account_is_trusted() -> None:
    # Defect 3: an admin grant to a principal in another AWS account passed silently.
    from components.config.errors import ConfigError

    ops = PARTNER.replace("admin", "ops")
    gov = "arn:aws-us-gov:iam::123456789012:role/same-number"
    with pytest.raises(ConfigError) as refused:
        validated(
            lambda raw: raw.update(
                clusterAdmins=[PARTNER, gov],
                access=[
                    {"principal": ops, "level": "edit"},
                    {"principal": ops.replace("ops", "dev"), "level": "edit", "namespaces": ["dev"]},
                    {"principal": ops.replace("ops", "sys"), "level": "edit", "namespaces": ["dev", "kube-system"]},
                ],
            )
        )
    tail = (
        "hands every cluster to whoever administers that account. Grant view, or edit in your workloads' namespaces, "
        "or declare the account in fleet:trustedAccounts if your organization owns it"
    )
    assert refused.value.problems == [
        f"fleet:clusterAdmins[0]: {PARTNER} is in account 999999999999, not this stack's (123456789012); admin on every "
        f"namespace, or in kube-system or Argo CD's, {tail}",
        f"fleet:clusterAdmins[1]: {gov} is in account 123456789012 of partition aws-us-gov, not this stack's "
        f"(123456789012); admin on every namespace, or in kube-system or Argo CD's, {tail}",
        # Cluster-wide edit runs Pods as any ServiceAccount in kube-system: admin in all but name.
        f"fleet:access[0].principal: {ops} is in account 999999999999, not this stack's (123456789012); edit on every "
        f"namespace, or in kube-system or Argo CD's, {tail}",
        # kube-system's ServiceAccounts are the cluster's: edit there is admin too.
        f"fleet:access[2].principal: {ops.replace('ops', 'sys')} is in account 999999999999, not this stack's "
        f"(123456789012); edit on every namespace, or in kube-system or Argo CD's, {tail}",
    ]
    trusted = validated(lambda raw: raw.update(clusterAdmins=[PARTNER], trustedAccounts=["999999999999"]))
    assert trusted.cluster_admins == [PARTNER]


def test_view_for_another_accounts_principal_is_a_named_warning_on_every_deploy() -> None:
    from components.planning import identity
    from offline.harness import run_stack

    auditor = "arn:aws:iam::999999999999:role/auditor"
    spec = validated(lambda raw: raw.update(access=[{"principal": auditor, "level": "view", "clusters": ["prod-us"]}]))
    (warning,) = identity.cross_account_warnings(spec)
    assert warning == (
        f"fleet:access: {auditor} is in account 999999999999, not this stack's (123456789012), and gets view on "
        "prod-us; declare the account in fleet:trustedAccounts to say it is meant"
    )
    run = run_stack(
        "prod", mutate=lambda c: c.update({"fleet:access": [{"principal": auditor, "level": "view", "clusters": ["prod-us"]}]})
    )
    assert warning in run.warnings
    assert (
        identity.cross_account_warnings(
            validated(lambda raw: raw.update(access=[{"principal": auditor, "level": "view"}], trustedAccounts=["999999999999"]))
        )
        == []
    )


# ---------------------------------------------------------------- drain and what-if advice that holds


def drained(raw: dict[str, Any], cluster: str) -> None:
    for entry in raw["clusters"]:
        if entry["name"] == cluster:
            entry["drained"] = True


def test_draining_the_failover_secondary_says_what_works_and_the_advice_validates() -> None:
    # Defect 4: draining prod-eu said "swap primary and secondary", but prod-eu is already app's
    # secondary and swapping gives the same error.
    from components.config.errors import ConfigError

    with pytest.raises(ConfigError) as refused:
        validated(lambda raw: drained(raw, "prod-eu"))
    (problem,) = refused.value.problems
    assert problem == (
        "fleet:dns.records[1]: drains prod-eu, app.example.com's failover secondary, which takes its traffic only while "
        "prod-us fails its health check; a failover group is exactly one PRIMARY and one SECONDARY set, so drain prod-eu "
        "per name on the other records (fleet:dns.records[].drained) instead of fleet:clusters[].drained; to keep "
        "traffic from ever reaching prod-eu, give the record another secondary or another routing policy "
        "(docs/runbooks.md, 'Preview a change')"
    )

    def as_advised(raw: dict[str, Any]) -> None:
        for record in raw["dns"]["records"]:
            if record["routing"] != "failover":
                record["drained"] = ["prod-eu"]

    spec = validated(as_advised)
    served = {r.name: {t.cluster for t in spec.serving_targets(r)} for r in spec.dns.records}
    assert served == {
        "api.example.com": {"prod-us"},
        "app.example.com": {"prod-us", "prod-eu"},
        "www.example.com": {"prod-us"},
        "shop.example.com": {"prod-us"},
    }


def test_draining_the_failover_primary_says_how_to_move_its_traffic_and_the_swap_is_one_clean_deploy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Issue 35 found the advice's swap refused by Route 53 (sets named by cluster: the first update found
    # the role taken); issue 36 names the sets by role, so the swap is one deploy of two in-place updates.
    from components.config.errors import ConfigError

    def drain_primary(raw: dict[str, Any]) -> None:
        raw["dns"]["records"][1]["drained"] = ["prod-us"]

    with pytest.raises(ConfigError) as refused:
        validated(drain_primary)
    (problem,) = refused.value.problems
    assert problem == (
        "fleet:dns.records[1]: drains prod-us, app.example.com's failover primary, but a failover group is exactly one "
        "PRIMARY and one SECONDARY set, so take prod-us out of fleet:dns.records[1].drained; to move its traffic to "
        "prod-eu, fail over (with fleet:dns.arc: python -m deploy failover --stack <stack> --to prod-eu, which moves "
        "every name), or swap primary and secondary: one deploy, each set (named by its role) moving its target in place"
    )
    document = yaml.safe_load(stacks.stack_path("prod").read_text())
    document["config"]["fleet:dns"]["records"][1].update(primary="prod-eu", secondary="prod-us")
    swapped = tmp_path / "Pulumi.prod.yaml"
    swapped.write_text(yaml.safe_dump(document, sort_keys=False))
    status, out = compare("prod", swapped, capsys)
    assert status == 0, out
    assert "traffic-app.example.com-primary (aliases[0].name" in out
    assert "No step breaks an AWS or Pulumi rule." in out


def test_the_what_if_counts_unanswered_clients_and_the_shared_services_in_the_region(capsys: pytest.CaptureFixture[str]) -> None:
    # Defect 4: "the survivors carry the load" while half of shop.example.com got no answer, and no
    # word of the mgmt hub and the Submariner broker in the failed region.
    from plan import __main__ as plan_main

    assert plan_main.main(["prod", "--what-if", "region:us-east-1:down"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert (
        "  shop.example.com: prod-eu 50%, prod-us 50% -> prod-eu 50%; the clients of its locations that are down get no "
        "answer (50% if clients split evenly by location)"
    ) in out
    assert out[-1] == (
        "Not every client gets an answer: shop.example.com (about 50% unanswered); the survivors carry the rest of the load."
    )
    assert (
        "  also down: Argo CD hub (mgmt of organization/fleet/mgmt, us-east-1): no cluster syncs, self-heals or rolls "
        "back from Git until it returns (workloads keep running)"
    ) in out
    assert any(line.startswith("  also down: Submariner broker (prod-us, us-east-1)") for line in out)
    assert plan_main.main(["prod", "--what-if", "region:eu-west-1:down"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "The survivors carry the load."
    assert not [line for line in out if "also down" in line]


# ---------------------------------------------------------------- one kubeconfig for every stack


def test_plan_all_merges_every_stacks_contexts_with_the_hub_marked(
    in_user_project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Defect 5: plan --all --kubeconfig FILE was refused; it merges every stack's clusters.
    import json
    import subprocess

    from plan import __main__ as plan_main

    written = tmp_path / "fleet.kubeconfig"
    assert plan_main.main(["--all", "--kubeconfig", str(written)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == (
        f"kubeconfig {written}: dev-us (dev), mgmt (mgmt, hub), prod-eu (prod), prod-us (prod), staging-us (staging); "
        "current: mgmt"
    )
    assert written.stat().st_mode & 0o777 == 0o600
    # The independent reader: kubectl itself.
    shown = subprocess.run(
        ["kubectl", "config", "view", "--kubeconfig", str(written), "-o", "json"], check=True, capture_output=True, text=True
    )
    view = json.loads(shown.stdout)
    assert view["current-context"] == "mgmt"
    marks = {c["name"]: c["context"]["extensions"][0]["extension"] for c in view["contexts"]}
    assert marks["mgmt"] == {"stack": "mgmt", "role": "hub"}
    assert marks["dev-us"] == {"stack": "dev", "role": "member"}
    assert {c["name"] for c in view["clusters"]} == set(marks)


def test_two_stacks_with_one_context_name_are_refused_by_name() -> None:
    from components.planning import kubeconfig

    document = {"clusters": [{"name": "a"}], "users": [{"name": "a"}], "contexts": [{"name": "a", "context": {}}]}
    with pytest.raises(ValueError, match=r"context 'a' is in stacks dev and prod: set fleet:kubeconfig\.contextPrefix"):
        kubeconfig.merge({"prod": document, "dev": document}, {})


# ---------------------------------------------------------------- who created each cluster, across a change

OLD_ROLE = "arn:aws:iam::123456789012:role/fleet-deploy-staging"


def session_of(role: str) -> str:
    return f"arn:aws:sts::123456789012:assumed-role/{role.rsplit('/', 1)[-1]}/ci-session"


NEW_ROLE = "arn:aws:iam::123456789012:role/fleet-deploy-staging-2"


def staging_file(directory: Path, name: str, change: Any) -> Path:
    document = yaml.safe_load(stacks.stack_path("staging").read_text())
    change(document["config"])
    path = directory / name / "Pulumi.staging.yaml"
    path.parent.mkdir()
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def test_switching_the_deployer_without_naming_the_creator_is_refused_by_compare(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The review: compare said "no changes" while NEW would have no entry on any cluster.
    switched = staging_file(tmp_path, "switched", lambda c: c["fleet:deployer"].update(principal=NEW_ROLE))
    status, out = compare("staging", switched, capsys)
    assert status == 1
    assert out.splitlines() == [
        f"Deploy it as {NEW_ROLE} (fleet:deployer.principal changes)",
        f"error [cluster-creator] at fleet:deployer: staging-us was created by {OLD_ROLE}, but the changed config says "
        f"{NEW_ROLE}",
        f"    safe way: name each cluster's creator: fleet:deployer.creators: {{staging-us: {OLD_ROLE}}} (and no "
        "fleet:deployer.creator; docs/runbooks.md, 'Rotate the deploy role')",
    ]
    named = staging_file(
        tmp_path, "named", lambda c: c["fleet:deployer"].update(principal=NEW_ROLE, creators={"staging-us": OLD_ROLE})
    )
    status, out = compare("staging", named, capsys)
    assert status == 0, out


def add_cluster(config: dict[str, Any], name: str, region: str, octet: int) -> None:
    extra = copy.deepcopy(config["fleet:clusters"][0])
    extra.update(name=name, region=region, vpcCidr=f"10.{octet}.0.0/16", serviceCidr=f"172.{octet - 18}.0.0/16")
    config["fleet:clusters"].append(extra)


def test_a_cluster_added_after_a_rotation_needs_each_clusters_creator_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The review: after a rotation NEW creates a new cluster, EKS gives NEW its creator entry there, and
    # the program (told OLD created every cluster) would plan a second one: ResourceInUseException.
    from components.planning import identity
    from components.planning.checks import load_fleet
    from offline.harness import ResourceInUseError, run_stack

    def rotated(config: dict[str, Any]) -> None:
        config["fleet:deployer"].update(principal=NEW_ROLE, creator=OLD_ROLE)

    def grown(config: dict[str, Any]) -> None:
        rotated(config)
        add_cluster(config, "staging-eu", "eu-west-1", 42)

    before = staging_file(tmp_path, "rotated", rotated)
    status, out = compare("staging", before, capsys, "--to", str(staging_file(tmp_path, "grown", grown)))
    assert status == 1
    assert (
        f"staging-eu is new: {NEW_ROLE} creates it and EKS gives it the creator's entry, but the changed config says "
        f"{OLD_ROLE} created it"
    ) in out
    assert f"fleet:deployer.creators: {{staging-us: {OLD_ROLE}}} (and no fleet:deployer.creator" in out
    # The mocked EKS refuses the same deploy: the harness knows who created which cluster.
    with pytest.raises(ResourceInUseError):
        run_stack(
            "staging",
            mutate=grown,
            caller_arn=session_of(NEW_ROLE),
            creator_arn=session_of(NEW_ROLE),  # staging-eu: created by this very deploy
            creators={"staging-us": session_of(OLD_ROLE)},
        )

    def named(config: dict[str, Any]) -> None:
        grown(config)
        config["fleet:deployer"] = {**config["fleet:deployer"], "creators": {"staging-us": OLD_ROLE}}
        del config["fleet:deployer"]["creator"]

    status, out = compare("staging", before, capsys, "--to", str(staging_file(tmp_path, "named", named)))
    assert status == 0, out
    config = yaml.safe_load((tmp_path / "named" / "Pulumi.staging.yaml").read_text())["config"]
    spec = load_fleet({k.removeprefix("fleet:"): v for k, v in config.items()})
    assert spec.deployer.creator_of("staging-eu") == NEW_ROLE  # EKS's entry there is NEW's own
    assert identity.access_on(spec, NEW_ROLE, "staging-eu") is not None
    assert [e.clusters for e in identity.access_entries(spec) if e.principal == NEW_ROLE] == [("staging-us",)]


def test_a_second_rotation_names_each_clusters_creator(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The review: OLD made staging-us, NEW made staging-eu, now NEWER deploys: one `creator` cannot say it.
    newer = "arn:aws:iam::123456789012:role/fleet-deploy-staging-3"

    def second(config: dict[str, Any]) -> None:
        add_cluster(config, "staging-eu", "eu-west-1", 42)
        config["fleet:deployer"] = {**config["fleet:deployer"], "principal": NEW_ROLE, "creators": {"staging-us": OLD_ROLE}}

    def third(config: dict[str, Any]) -> None:
        second(config)
        config["fleet:clusterAdmins"] = [*config.get("fleet:clusterAdmins", []), newer]
        config["fleet:deployer"] = {
            **config["fleet:deployer"],
            "principal": newer,
            "creators": {"staging-us": OLD_ROLE, "staging-eu": NEW_ROLE},
        }

    status, out = compare(
        "staging", staging_file(tmp_path, "second", second), capsys, "--to", str(staging_file(tmp_path, "third", third))
    )
    assert status == 0, out
    assert f"Deploy it as {newer} (fleet:deployer.principal changes)" in out


def test_the_vcpu_quota_counts_every_stack_of_the_account_in_the_region() -> None:
    # The review: mgmt and prod share account 123456789012 in us-east-1, and EC2's quota is the account's.
    from components.config import hub_stack
    from components.planning import instances
    from components.planning.checks import load_fleet

    mgmt = hub_stack.with_hub_stack(
        load_fleet(
            {k.removeprefix("fleet:"): v for k, v in yaml.safe_load(stacks.stack_path("mgmt").read_text())["config"].items()}
        ),
        stack="mgmt",
    )
    (standard,) = [n for n in instances.vcpu_needs(mgmt)[0] if n.klass == "Standard" and not n.spot]
    assert standard.region == "us-east-1"
    assert any(g.startswith("stack prod: prod-us/general") for g in standard.groups)
    assert not any("prod-eu" in g for g in standard.groups)  # eu-west-1 is prod's to count


@pytest.mark.parametrize(
    ("quotas", "problem"),
    [
        ({"onDemandVcpus": {"P5": 8}}, "onDemandVcpus.P5: P5 On-Demand counts against P (L-417A185B); declare it as P"),
        ({"spotVcpus": {"HPC": 8}}, "spotVcpus.HPC: AWS has no Spot quota for HPC instances"),
        ({"onDemandVcpus": {"Gpu": 8}}, "onDemandVcpus.Gpu"),
    ],
)
def test_a_vcpu_quota_aws_does_not_have_is_refused(quotas: dict[str, Any], problem: str) -> None:
    from components.config.errors import ConfigError

    with pytest.raises(ConfigError) as refused:
        validated(lambda raw: raw["quotas"]["regions"]["us-east-1"].update(quotas))
    assert any(problem in p for p in refused.value.problems), refused.value.problems


def test_a_members_file_that_does_not_read_is_named_with_its_place_by_the_hub(
    in_user_project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The review: mgmt listing dev said only "does not join this hub ... or does not read".
    from plan import __main__ as plan_main

    hub = yaml.safe_load((in_user_project / "Pulumi.mgmt.yaml").read_text())
    hub["config"]["fleet:members"] = ["organization/fleet/dev"]
    (in_user_project / "Pulumi.mgmt.yaml").write_text(yaml.safe_dump(hub, sort_keys=False))
    latin1_copy(in_user_project / "Pulumi.dev.yaml", in_user_project / "Pulumi.dev.yaml")
    assert plan_main.main(["mgmt"]) == 1
    err = capsys.readouterr().err
    assert f"fleet:members[0]: organization/fleet/dev's stack file does not read: {in_user_project / 'Pulumi.dev.yaml'}:" in err
    assert "is not UTF-8" in err


def test_the_kubeconfig_is_never_written_over_a_kubeconfig_of_other_contexts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The review: --kubeconfig ~/.kube/config truncated the user's own file (and followed symlinks).
    from plan import __main__ as plan_main

    own = tmp_path / "config"
    own.write_text("apiVersion: v1\nkind: Config\ncontexts:\n- name: my-laptop-cluster\n  context: {cluster: a, user: a}\n")
    assert plan_main.main(["staging", "--kubeconfig", str(own)]) == 1
    assert f"--kubeconfig: {own} holds contexts this plan does not write (my-laptop-cluster)" in capsys.readouterr().err
    assert "my-laptop-cluster" in own.read_text()
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "elsewhere")
    assert plan_main.main(["staging", "--kubeconfig", str(link)]) == 1
    assert not (tmp_path / "elsewhere").exists()
    stack_copy = tmp_path / "Pulumi.staging.yaml"
    shutil.copy(stacks.stack_path("staging"), stack_copy)
    assert plan_main.main(["staging", "--kubeconfig", str(stack_copy)]) == 1
    assert "exists and is not a kubeconfig" in capsys.readouterr().err
    assert stack_copy.read_text() == stacks.stack_path("staging").read_text()
    again = tmp_path / "fleet"
    assert plan_main.main(["staging", "--kubeconfig", str(again)]) == 0
    assert plan_main.main(["staging", "--kubeconfig", str(again)]) == 0  # its own file: rewritten
    capsys.readouterr()
    assert plan_main.main(["staging", "--kubeconfig", "-"]) == 0
    assert "current-context: staging-us" in capsys.readouterr().out
