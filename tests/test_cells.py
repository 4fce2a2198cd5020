"""Cells (fleet:cells, components/planning/cells.py): prod deployed as one stack per cluster.

The oracle for what a cell must hold is the single-stack program itself: the cells of an environment
together register exactly what its one stack registers, with the same inputs once the join round has
run, so moving a stack's state into its cells (docs/cells.md) leaves nothing to create, change or delete.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from components.config import hub_stack
from components.config.errors import ConfigError
from deploy import cells as deploy_cells_module
from deploy.order import deploy_rounds
from offline import cells as offline_cells
from offline import stacks, state_split
from offline.harness import Run, creator_session, deployer_session, run_program, stack_config
from tests.reference_stacks import cells_project

ENVIRONMENT = "prod"
ROOT_DIR = Path(__file__).resolve().parents[1]
CELLS = ("prod.prod-eu", "prod.prod-us")
REFERENCE = "organization/fleet/{}"
# What one cell registers at most (issue 37's budget: a stack a real engine deploys in one cluster's time).
MAX_RESOURCES_PER_STACK = 300


@pytest.fixture(autouse=True)
def _cells_project(monkeypatch: pytest.MonkeyPatch) -> None:
    project = cells_project()
    monkeypatch.setattr(stacks, "STACK_DIR", project)
    monkeypatch.setattr(hub_stack, "PROJECT_DIR", project)


def _config(mutate: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
    config = copy.deepcopy(stack_config(ENVIRONMENT))
    if mutate is not None:
        mutate(config)
    return config


def run_cell(stack: str, outputs: dict[str, dict[str, Any]] | None = None, **options: Any) -> Run:
    """One cell's run; every cell's stack exists (the deploy creates them first), with ``outputs`` where given."""
    config = options.pop("config", None) or _config()
    existing: dict[str, dict[str, Any]] = {REFERENCE.format(cell): {} for cell in CELLS}
    existing.update({REFERENCE.format(name): value for name, value in (outputs or {}).items()})
    options.setdefault("addresses", {})
    return run_program(
        config,
        stack=stack,
        stack_outputs=existing,
        caller_arn=deployer_session(config),
        creator_arn=creator_session(config),
        **options,
    )


def deploy_cells() -> tuple[dict[str, Run], dict[str, Run]]:
    """Both rounds of python -m deploy.order: every cell, then the clusterset's cells again with the
    first round's outputs."""
    return offline_cells.evaluate_cells(ENVIRONMENT, _config())


@pytest.fixture(scope="module")
def rounds() -> Iterator[tuple[dict[str, Run], dict[str, Run], Run]]:
    with pytest.MonkeyPatch.context() as patch:
        project = cells_project()
        patch.setattr(stacks, "STACK_DIR", project)
        patch.setattr(hub_stack, "PROJECT_DIR", project)
        first, joined = deploy_cells()
        config = _config(lambda c: c.pop("fleet:cells"))
        whole = run_program(config, stack=ENVIRONMENT, caller_arn=deployer_session(config), creator_arn=creator_session(config))
        yield first, joined, whole


def _keys(run: Run) -> set[tuple[str, str]]:
    return {(r.type, r.name) for r in run.registrations.values()}


_STACK_IN_URN = re.compile(r"urn:pulumi:[A-Za-z0-9_.-]+::")


def _inputs(run: Run) -> dict[tuple[str, str], str]:
    """Each registration's inputs, with the stack part of every URN they hold made the same: a state
    move rewrites it (docs/cells.md)."""
    return {
        (r.type, r.name): _STACK_IN_URN.sub("urn:pulumi:STACK::", json.dumps(r.inputs, sort_keys=True, default=str))
        for r in run.registrations.values()
    }


# Components and providers each cell has its own of: a component groups a cell's own children, a
# provider is configuration; neither is a cloud resource two stacks could fight over.
SHARED_KINDS = ("fleet:index:GlobalTraffic", "pulumi:providers:")


def test_every_cluster_is_in_exactly_one_stack_and_the_cells_hold_what_one_stack_holds(rounds: Any) -> None:
    _, joined, whole = rounds
    per_cell = {stack: _keys(run) for stack, run in joined.items()}
    assert set().union(*per_cell.values()) == _keys(whole)
    overlap = per_cell["prod.prod-us"] & per_cell["prod.prod-eu"]
    assert overlap
    assert all(kind.startswith(SHARED_KINDS) for kind, _ in overlap), overlap
    for stack, keys in per_cell.items():
        other = "prod-eu" if stack.endswith("prod-us") else "prod-us"
        # The broker's cell holds each member's token on the broker's cluster (submariner-broker-<member>-*).
        assert not [k for k in keys if other in k[1] and not k[1].startswith("submariner-broker-")], stack
        assert len(keys) <= MAX_RESOURCES_PER_STACK


def test_after_the_join_round_every_resource_has_the_single_stack_inputs(rounds: Any) -> None:
    """What makes the move into cells replace nothing: after the join round, a cell asks for each of
    its resources exactly what the single stack asked for."""
    _, joined, whole = rounds
    expected = _inputs(whole)
    for run in joined.values():
        for key, inputs in _inputs(run).items():
            assert inputs == expected[key], key


def test_the_first_round_builds_everything_but_the_join_and_says_what_it_waits_for(rounds: Any) -> None:
    first, joined, _ = rounds
    eu_first, eu_joined = first["prod.prod-eu"], joined["prod.prod-eu"]
    assert _keys(eu_first) < _keys(eu_joined)
    added = _keys(eu_joined) - _keys(eu_first)
    # Only the operator and its join: the gateways' nodes, addresses and groups were built in round one.
    assert added == {
        ("kubernetes:core/v1:Namespace", "prod-eu-submariner-ns"),
        ("kubernetes:helm.sh/v3:Release", "prod-eu-submariner-operator"),
        ("kubernetes:submariner.io/v1alpha1:Submariner", "prod-eu-submariner-submariner"),
    }, added
    assert ("eks:index:ManagedNodeGroup", "prod-eu-submariner-gateway") in _keys(eu_first)
    assert any("cell prod.prod-us has not deployed yet" in w for w in eu_first.warnings)
    assert not any("has not deployed yet" in w for run in joined.values() for w in run.warnings)


def _eips(run: Run) -> dict[str, str]:
    return {r.name: r.outputs["publicIp"] for r in run.of_type("aws:ec2/eip:Eip")}


def test_the_brokers_api_and_the_peers_tunnels_admit_the_members_addresses_ec2_lists(rounds: Any) -> None:
    _, joined, _ = rounds
    eu = _eips(joined["prod.prod-eu"])
    allowed = set(joined["prod.prod-us"].named("prod-us-eks").inputs["publicAccessCidrs"])
    # The broker's API: the member's gateway pool and NAT addresses (its calls leave from both).
    assert {f"{ip}/32" for ip in eu.values()} <= allowed
    # The broker's tunnel ports: the member's gateway pool, from its prefix list.
    peers = joined["prod.prod-us"].named("prod-us-submariner-peer-gateways")
    listed = {e["cidr"] for e in peers.inputs["entries"]}
    assert listed == {f"{ip}/32" for name, ip in eu.items() if "-gateway-" in name}


def test_addresses_are_the_accounts_own_under_the_members_tags_never_a_cells_output() -> None:
    addresses: dict[tuple[str, str, str], dict[str, str]] = {}
    eu = run_cell("prod.prod-eu", addresses=addresses)
    # An address in the account without the member's tags, and an output claiming one: neither is admitted.
    addresses[("123456789012", "eu-west-1", "52.0.0.1")] = {"Name": "someone-elses"}
    forged = {"prod.prod-eu": {"clustersetMember": {"cluster": "prod-eu", "gatewayIps": ["8.8.8.8"], "natIps": ["1.1.1.1"]}}}
    us = run_cell("prod.prod-us", forged, addresses=addresses)
    allowed = set(us.named("prod-us-eks").inputs["publicAccessCidrs"])
    assert {f"{ip}/32" for ip in _eips(eu).values()} <= allowed
    assert not {"52.0.0.1/32", "8.8.8.8/32", "1.1.1.1/32"} & allowed


def test_the_brokers_credentials_and_psk_leave_its_cell_as_a_secret(rounds: Any) -> None:
    first, joined, _ = rounds
    for run in (*first.values(), *joined.values()):
        assert ("clustersetBroker" in run.exports) == (run is first["prod.prod-us"] or run is joined["prod.prod-us"])
    assert "clustersetBroker" in joined["prod.prod-us"].secret_exports
    assert "clustersetMember" not in joined["prod.prod-us"].secret_exports


Addresses = dict[tuple[str, str, str], dict[str, str]]


def _forge(mutate: Callable[[dict[str, Any]], None]) -> tuple[dict[str, dict[str, Any]], Addresses]:
    """The first round's outputs, changed by ``mutate``, and the account's addresses after that round."""
    addresses: Addresses = {}
    first = {stack: run_cell(stack, addresses=addresses) for stack in CELLS}
    exported = {stack: copy.deepcopy(run.exports) for stack, run in first.items()}
    mutate(exported)
    return exported, addresses


@pytest.mark.parametrize(
    ("forgery", "refusal"),
    [
        (lambda o: o["prod.prod-us"]["clustersetBroker"].update(server="evil.example.com:443"), "server"),
        (lambda o: o["prod.prod-us"]["clustersetBroker"]["credentials"]["prod-eu"].update(ca="bm90IGEgY2E="), "ca"),
        (lambda o: o["prod.prod-us"]["clustersetBroker"].update(psk="short"), "psk"),
        (lambda o: o["prod.prod-us"]["clustersetBroker"]["credentials"]["prod-eu"].update(token="x"), "token"),
        (lambda o: o["prod.prod-us"]["clustersetBroker"].update(cluster="prod-eu"), "cluster"),
    ],
)
def test_a_forged_cell_output_stops_the_reading_cell_before_any_resource(forgery: Any, refusal: str) -> None:
    outputs, addresses = _forge(forgery)
    registered: list[str] = []
    with pytest.raises(ConfigError) as error:
        run_cell("prod.prod-eu", outputs, registrations_on_error=registered, addresses=addresses)
    assert refusal in str(error.value)
    assert "stack prod.prod-us output" in str(error.value)
    assert not [name for name in registered if name.startswith("prod-eu")], registered


@pytest.mark.parametrize("missing", ["output", "token"])
def test_a_running_member_never_loses_its_join_to_a_missing_broker_output(missing: str) -> None:
    """After a move into cells (no outputs yet), a destroyed broker cell, or a new broker: a member whose
    cluster runs stops and names the cell to deploy first; it never builds itself without its join."""
    outputs, addresses = _forge(lambda o: o["prod.prod-us"]["clustersetBroker"]["credentials"].pop("prod-eu"))
    if missing == "output":
        outputs["prod.prod-us"] = {}
    registered: list[str] = []
    with pytest.raises(ConfigError, match=r"stack prod\.prod-us .* and prod-eu runs .* deploy prod\.prod-us first") as error:
        run_cell("prod.prod-eu", outputs, running={"prod-eu": "1.35"}, registrations_on_error=registered, addresses=addresses)
    assert "clusterset join would be deleted" in str(error.value)
    assert not [name for name in registered if name.startswith("prod-eu")], registered


def test_a_new_member_waits_for_its_token_and_joins_in_the_join_round() -> None:
    outputs, addresses = _forge(lambda o: o["prod.prod-us"]["clustersetBroker"]["credentials"].pop("prod-eu"))
    run = run_cell("prod.prod-eu", outputs, addresses=addresses)
    assert not run.of_type("kubernetes:submariner.io/v1alpha1:Submariner")
    assert any("cell prod.prod-us has not deployed yet" in w for w in run.warnings)


def test_a_stack_reference_to_a_cell_the_backend_lacks_fails_the_program() -> None:
    """What the engine does (pkg/backend GetStackOutputs: unknown stack): the deploy creates every cell's
    stack before the first round for this reason (deploy/cells.py)."""
    config = _config()
    with pytest.raises(Exception, match=r'unknown stack "organization/fleet/prod\.prod-us"'):
        run_program(config, stack="prod.prod-eu", caller_arn=deployer_session(config), creator_arn=creator_session(config))


def test_a_celled_environment_never_runs_as_its_own_stack_nor_as_a_cell_it_does_not_declare() -> None:
    with pytest.raises(ConfigError, match=r"fleet:cells: this environment deploys as one stack per cluster"):
        run_cell("prod")
    with pytest.raises(ConfigError, match=r"has no cluster 'prod-ap'"):
        run_cell("prod.prod-ap")
    staging = copy.deepcopy(stack_config("staging"))
    with pytest.raises(ConfigError, match=r"runs only with a config that sets fleet:cells: true"):
        run_program(staging, stack="staging.staging-us", caller_arn=deployer_session(staging))


def test_deploy_order_lists_the_cells_and_their_join_round() -> None:
    rounds = deploy_rounds(cells_project())
    entry = {"file": "Pulumi.prod.yaml"}
    assert rounds == [
        [{"stack": "mgmt", "file": "Pulumi.mgmt.yaml"}],
        [{"stack": s, **entry} for s in CELLS] + [{"stack": "staging", "file": "Pulumi.staging.yaml"}],
        [{"stack": s, **entry} for s in CELLS],
        [{"stack": "mgmt", "file": "Pulumi.mgmt.yaml"}],
    ]


def test_a_cells_own_stack_file_is_not_a_stack(tmp_path: Any) -> None:
    project = cells_project()
    for name in ("Pulumi.yaml", "Pulumi.mgmt.yaml", "Pulumi.prod.yaml", "Pulumi.staging.yaml"):
        (tmp_path / name).write_text((project / name).read_text())
    (tmp_path / "Pulumi.prod.prod-us.yaml").write_text("secretsprovider: awskms://alias/fleet\n")
    assert [s for r in deploy_rounds(tmp_path) for s in r] == [s for r in deploy_rounds(project) for s in r]


def test_the_hub_registers_each_cells_cluster_from_that_cells_output() -> None:
    mgmt = copy.deepcopy(stack_config("mgmt"))
    run = run_program(mgmt, stack="mgmt", caller_arn=deployer_session(mgmt), creator_arn=creator_session(mgmt))
    names = {r.name for r in run.registrations.values()}
    assert {"prod-us-argocd", "prod-eu-argocd"} <= names


def test_the_hub_refuses_a_cell_that_registers_another_cells_cluster() -> None:
    mgmt = copy.deepcopy(stack_config("mgmt"))
    forged = stacks.member_placeholders(REFERENCE.format("prod"), mgmt)
    eu = forged[REFERENCE.format("prod.prod-eu")]["argocdRegistration"]["clusters"]
    eu["prod-us"] = dict(eu["prod-eu"])
    with pytest.raises(ConfigError, match=r"stack organization/fleet/prod.prod-eu output argocdRegistration.clusters.prod-us"):
        run_program(
            mgmt, stack="mgmt", stack_outputs=forged, caller_arn=deployer_session(mgmt), creator_arn=creator_session(mgmt)
        )


# --- Moving a running single stack into cells (docs/runbooks.md): export, split, import, then the cells' up.


def _source_urns(stack: str, cell: Run) -> list[str]:
    return offline_cells.move_urns(ENVIRONMENT, stack, cell)


SHARED_COMPONENTS = offline_cells.SHARED_COMPONENTS


def _engine(value: Any) -> Any:
    """URN strings (and provider references, ``<urn>::<id>``) as the engine writes them."""
    text = json.dumps(value)
    for match in set(re.findall(r'urn:pulumi:[^"]+', text)):
        parts = match.split("::")
        if len(parts) >= 4:
            fixed = offline_cells.engine_urn("::".join(parts[:4])) + ("::" + "::".join(parts[4:]) if len(parts) > 4 else "")
            text = text.replace(match, fixed)
    return json.loads(text)


SIG = state_split.SECRET_SIG


def _secret(value: Any) -> dict[str, Any]:
    """A secret as ``pulumi stack export --show-secrets`` writes it (sdk/go/common/resource/sig; deployment.go)."""
    return {SIG[0]: SIG[1], "plaintext": json.dumps(value)}


def _revealed(value: Any) -> Any:
    if isinstance(value, dict):
        if value.get(SIG[0]) == SIG[1]:
            return json.loads(value["plaintext"])
        return {k: _revealed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_revealed(v) for v in value]
    return value


def export_of(run: Run, stack: str) -> dict[str, Any]:
    """``pulumi stack export --show-secrets`` of a run's state, in the engine's deployment format (v3): its
    manifest, its secrets provider, and each secret input as the export writes it."""
    root = f"urn:pulumi:{stack}::fleet::pulumi:pulumi:Stack::fleet-{stack}"
    resources: list[dict[str, Any]] = [{"urn": root, "custom": False, "type": "pulumi:pulumi:Stack", "outputs": run.exports}]
    for r in run.registrations.values():
        inputs = {k: _secret(v) if k in r.secret_inputs else v for k, v in r.inputs.items()}
        resource: dict[str, Any] = {
            "urn": r.urn,
            "custom": r.custom,
            "type": r.type,
            "inputs": inputs,
            "outputs": r.outputs,
            "parent": r.parent,
            "protect": r.protect,
            "dependencies": r.dependencies,
            "propertyDependencies": r.property_dependencies,
        }
        if r.custom:
            resource["id"] = r.id
        if r.provider:
            resource["provider"] = r.provider
        resources.append(_engine(resource))
    manifest = {"time": "2026-12-07T16:00:00Z", "magic": "0" * 64, "version": "v3.200.0"}
    providers = {"type": "passphrase", "state": {"salt": "v1:c2FsdA==:v1:aXY=:Y2lwaGVy"}}
    return {"version": 3, "deployment": {"manifest": manifest, "secrets_providers": providers, "resources": resources}}


def _by_name(resources: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(r["type"], r["urn"].rsplit("::", 1)[-1]): r for r in resources if r["type"] != "pulumi:pulumi:Stack"}


def test_the_split_gives_each_cell_the_state_its_program_leaves_unchanged(rounds: Any) -> None:
    """After pulumi stack import, each cell's program finds every resource it registers, with the same
    inputs, parent and provider: nothing to create, change or delete; no URN of the environment's stack."""
    _, joined, whole = rounds
    listed = {stack: [offline_cells.engine_urn(u) for u in _source_urns(stack, cell)] for stack, cell in joined.items()}
    cells_state, rest = state_split.split(export_of(whole, ENVIRONMENT), ENVIRONMENT, listed, SHARED_COMPONENTS)
    export = export_of(whole, ENVIRONMENT)
    for stack, cell in joined.items():
        deployment = cells_state[stack]["deployment"]
        # Kept: pulumi stack import writes the cell's secrets with it (without one it panics).
        assert deployment["secrets_providers"] == export["deployment"]["secrets_providers"]
        assert deployment["manifest"] == export["deployment"]["manifest"]
        imported = deployment["resources"]
        assert any(SIG[1] in json.dumps(r.get("inputs")) for r in imported), "secrets stay in the export's form"
        # Its own registration, seeded: until its first up exports it, the hub keeps the cluster registered.
        (root,) = [r for r in imported if r["type"] == "pulumi:pulumi:Stack"]
        cluster = stack.split(".", 1)[1]
        registered = export["deployment"]["resources"][0]["outputs"]["argocdRegistration"]["clusters"][cluster]
        assert root["outputs"] == {"argocdRegistration": {"clusters": {cluster: registered}}}
        text = json.dumps(imported)
        assert "urn:pulumi:prod::" not in text, stack
        state = _by_name(imported)
        program = {(r.type, r.name): r for r in cell.registrations.values()}
        assert set(state) == set(program), set(state) ^ set(program)
        urns = {r["urn"] for r in imported}
        seen: set[str] = set()
        for resource in imported:
            # Integrity: parents and providers exist, and come first.
            for needed in [resource.get("parent"), (resource.get("provider") or "").rsplit("::", 1)[0]]:
                assert not needed or needed in seen, (resource["urn"], needed)
            assert set(resource.get("dependencies") or []) <= urns
            seen.add(resource["urn"])
        for key, registration in program.items():
            expected = _engine({"inputs": registration.inputs, "parent": registration.parent, "provider": registration.provider})
            expected = json.loads(json.dumps(expected).replace(f"urn:pulumi:{stack}::", "urn:pulumi:CELL::"))
            found = {k: _revealed(state[key].get(k, "")) for k in ("inputs", "parent", "provider")}
            found = json.loads(json.dumps(found).replace(f"urn:pulumi:{stack}::", "urn:pulumi:CELL::"))
            assert found == expected, key
    # What stays in the environment's stack: no cloud object.
    left = {r["type"] for r in rest["deployment"]["resources"]}
    assert left <= {
        "pulumi:pulumi:Stack",
        "pulumi:providers:aws",
        "pulumi:providers:kubernetes",
        "pulumi:providers:random",
        SHARED_COMPONENTS[0],
    }, left
    assert not deploy_cells_module.held_by_single_stack(rest["deployment"])
    # What the environment's stack exported is the cells' now.
    (root,) = [r for r in rest["deployment"]["resources"] if r["type"] == "pulumi:pulumi:Stack"]
    assert root["outputs"] == {}


def test_the_split_refuses_encrypted_secrets_pending_operations_and_a_resource_for_two_cells(rounds: Any) -> None:
    _, joined, whole = rounds
    listed = {stack: [offline_cells.engine_urn(u) for u in _source_urns(stack, cell)] for stack, cell in joined.items()}
    export = export_of(whole, ENVIRONMENT)
    encrypted = copy.deepcopy(export)
    encrypted["deployment"]["resources"][1]["outputs"] = {
        "x": {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "ciphertext": "AAAB"}
    }
    with pytest.raises(state_split.SplitRefusedError, match="--show-secrets"):
        state_split.split(encrypted, ENVIRONMENT, listed, SHARED_COMPONENTS)
    pending = copy.deepcopy(export)
    pending["deployment"]["pending_operations"] = [{"type": "creating"}]
    with pytest.raises(state_split.SplitRefusedError, match="pending operations"):
        state_split.split(pending, ENVIRONMENT, listed, SHARED_COMPONENTS)
    twice = {**listed, "prod.prod-eu": [*listed["prod.prod-eu"], listed["prod.prod-us"][0]]}
    with pytest.raises(state_split.SplitRefusedError, match="would go to both"):
        state_split.split(export, ENVIRONMENT, twice, SHARED_COMPONENTS)


def test_move_into_cells_splits_an_export_into_private_files(rounds: Any, tmp_path: Any) -> None:
    from deploy import move_into_cells

    _, _, whole = rounds
    export = tmp_path / "prod.json"
    export.write_text(json.dumps(export_of(whole, ENVIRONMENT)))
    out = tmp_path / "move"
    assert move_into_cells.main(["--stack", ENVIRONMENT, "--split", str(export), "--out", str(out)]) == 0
    written = sorted(p.name for p in out.iterdir())
    assert written == ["prod.prod-eu.json", "prod.prod-us.json", "prod.rest.json"]
    assert all((p.stat().st_mode & 0o777) == 0o600 for p in out.iterdir())


def test_move_into_cells_prints_the_moves_the_tests_check(capsys: pytest.CaptureFixture[str]) -> None:
    from deploy import move_into_cells

    assert move_into_cells.main(["--stack", ENVIRONMENT, "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    cells_now = offline_cells.whole_cells(ENVIRONMENT, _config())
    expected = {
        s: [offline_cells.engine_urn(u) for u in offline_cells.move_urns(ENVIRONMENT, s, run)] for s, run in cells_now.items()
    }
    assert printed["cells"] == expected
    # As the engine names them: no root stack type before a top-level resource's.
    assert all("pulumi:pulumi:Stack" not in u for urns in expected.values() for u in urns)
    assert "urn:pulumi:prod::fleet::fleet:index:ClusterNetwork::prod-us-network" in expected["prod.prod-us"]
    assert move_into_cells.main(["--stack", ENVIRONMENT]) == 0
    lines = capsys.readouterr().out.splitlines()
    imports = [line.split()[4] for line in lines if line.startswith("pulumi stack import")]
    assert imports == [*sorted(CELLS), "prod"]
    assert any(line.startswith("pulumi stack export --stack prod --show-secrets") for line in lines)
    # Providers go with the resources that use them, never listed.
    assert not any("pulumi:providers:" in u for urns in expected.values() for u in urns)


def test_move_into_cells_refuses_an_environment_that_is_not_celled(capsys: pytest.CaptureFixture[str]) -> None:
    from deploy import move_into_cells

    assert move_into_cells.main(["--stack", "staging"]) == 1
    assert "set fleet:cells: true first" in capsys.readouterr().err


def test_the_deploy_workflow_gets_the_cells_as_its_matrices() -> None:
    from deploy.order import matrix_lines

    expected = {
        "prod": '["prod.prod-eu", "prod.prod-us"]',
        "prod-join": '["prod.prod-eu", "prod.prod-us"]',
        "prod-celled": "true",
        "staging": '["staging"]',
        "staging-join": "[]",
        "staging-celled": "false",
    }
    printed = dict(line.split("=", 1) for line in matrix_lines(cells_project()))
    assert {key: printed[key] for key in expected} == expected


def test_the_first_round_after_the_move_changes_nothing_and_a_running_member_waits_for_the_broker(rounds: Any) -> None:
    """Right after the import no cell has outputs: the broker's cell builds what it holds from EC2 and its
    own state, and registers exactly the single stack's; a running member stops before anything (its join
    needs the broker's output) and joins in the join round (test_the_split_...)."""
    _, joined, _ = rounds
    addresses: dict[tuple[str, str, str], dict[str, str]] = {}
    config = _config(lambda c: c.pop("fleet:cells"))
    whole = run_program(
        config, stack=ENVIRONMENT, caller_arn=deployer_session(config), creator_arn=creator_session(config), addresses=addresses
    )
    running = {"prod-us": "1.35", "prod-eu": "1.35"}
    broker = run_cell("prod.prod-us", addresses=addresses, running=running)
    expected = {(r.type, r.name): r for r in joined["prod.prod-us"].registrations.values()}
    for registration in broker.registrations.values():
        assert registration.inputs == expected[(registration.type, registration.name)].inputs, registration.name
    assert len(broker.registrations) == len(expected)
    del whole
    with pytest.raises(ConfigError, match=r"deploy prod\.prod-us first"):
        run_cell("prod.prod-eu", addresses=addresses, running=running)


def test_a_celled_environments_file_holds_no_encrypted_value(tmp_path: Any) -> None:
    project = cells_project()
    for name in ("Pulumi.yaml", "Pulumi.mgmt.yaml", "Pulumi.staging.yaml"):
        (tmp_path / name).write_text((project / name).read_text())
    text = (project / "Pulumi.prod.yaml").read_text()
    (tmp_path / "Pulumi.prod.yaml").write_text(text.replace("config:\n", "config:\n  fleet:note:\n    secure: AAABAJ5x\n", 1))
    with pytest.raises(ValueError, match=r"Pulumi.prod.yaml: fleet:cells: true with encrypted values \(fleet:note\)"):
        deploy_rounds(tmp_path)


def test_a_peer_whose_addresses_ec2_lists_in_part_is_refused_not_dropped() -> None:
    """An empty answer from EC2 for a peer whose network exists (its addresses renamed, retagged) would shrink
    the broker's allow list and the tunnels' openings without a word: refused."""
    addresses: Addresses = {}
    run_cell("prod.prod-eu", addresses=addresses)
    # Its NAT addresses renamed: the gateway pool is still there, so the network exists.
    renamed = {key: {**tags, "Name": tags["Name"].replace("-nat-", "-egress-")} for key, tags in addresses.items()}
    with pytest.raises(ConfigError, match=r"prod-eu has Elastic IPs in eu-west-1 .* EC2 lists no NAT address of it"):
        run_cell("prod.prod-us", addresses=renamed)


def test_a_pull_request_previews_a_celled_environment_cell_by_cell_in_its_environment(capsys: pytest.CaptureFixture[str]) -> None:
    import io as _io
    import sys as _sys

    import yaml

    from deploy import touched

    project = cells_project()
    stdin = _sys.stdin
    try:
        _sys.stdin = _io.StringIO("Pulumi.prod.yaml\n")
        assert touched.main(["--root", str(project)]) == 0
    finally:
        _sys.stdin = stdin
    lines = dict(line.split("=", 1) for line in capsys.readouterr().out.splitlines())
    assert json.loads(lines["stacks"]) == ["mgmt", "staging"]  # the hub registering prod, and who joins it
    assert json.loads(lines["cells"]) == [{"stack": s, "environment": "prod"} for s in CELLS]
    workflow = yaml.safe_load((ROOT_DIR / ".github" / "workflows" / "preview.yml").read_text())
    job = workflow["jobs"]["preview-cells"]
    assert job["strategy"]["matrix"]["include"] == "${{ fromJSON(needs.stacks.outputs.cells) }}"
    assert job["environment"] == "preview-${{ matrix.environment }}"
    (run,) = [step for step in job["steps"] if "python -m deploy" in step.get("run", "")]
    assert run["run"].startswith('.venv/bin/python -m deploy --stack "$STACK" --no-refresh')
    assert "--up" not in run["run"]


def test_the_hub_registers_the_cells_that_have_deployed_and_waits_for_a_new_one() -> None:
    """A cluster just added to a celled member environment: its cell's stack exists (the deploy workflow's
    cells job runs before the hub) but has no outputs yet. The hub registers the others and says so; it
    registers the new one in its register round, once the cell has deployed."""
    mgmt = copy.deepcopy(stack_config("mgmt"))
    outputs = stacks.member_placeholders(REFERENCE.format("prod"), mgmt)
    outputs[REFERENCE.format("prod.prod-eu")] = {}
    run = run_program(
        mgmt, stack="mgmt", stack_outputs=outputs, caller_arn=deployer_session(mgmt), creator_arn=creator_session(mgmt)
    )
    names = {r.name for r in run.registrations.values()}
    assert "prod-us-argocd" in names
    assert "prod-eu-argocd" not in names
    assert any("organization/fleet/prod.prod-eu has not deployed yet" in w for w in run.warnings)
