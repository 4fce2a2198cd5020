"""python -m plan <stack> --cost (offline/cost.py, components/aws/prices.py) and the price refresh
(offline/fetch_prices.py), checked on the program's own registrations of the shipped prod."""

from __future__ import annotations

import copy
import datetime as dt
import json
from typing import Any

import pytest

from components.aws import prices
from offline import cost
from offline.fetch_prices import offer_rows, prices_of, refresh
from offline.harness import Run, run_stack

H = prices.HOURS_PER_MONTH


@pytest.fixture(scope="module")
def prod() -> Run:
    return run_stack("prod")


@pytest.fixture(scope="module")
def estimate(prod: Run) -> dict[str, Any]:
    return cost.estimate(prod)


def items(part: dict[str, Any], startswith: str) -> list[dict[str, Any]]:
    return [i for i in part["items"] if i["item"].startswith(startswith)]


def test_prices_that_do_not_move(estimate: dict[str, Any]) -> None:
    # The fixed points: the control plane, public IPv4, and in us-east-1 a NAT gateway and m7i.xlarge.
    us = estimate["clusters"]["prod-us"]
    (plane,) = items(us, "EKS control plane (1.35, standard support)")
    assert (plane["hourly"], plane["quantity"], plane["monthly"]) == (0.10, 1, 73.0)
    assert {i["hourly"] for i in items(us, "public IPv4")} == {0.005}
    (nat,) = items(us, "NAT gateway")
    assert (nat["hourly"], nat["quantity"]) == (0.045, 3)
    (general,) = items(us, "EC2 m7i.xlarge (general)")
    assert (general["hourly"], general["quantity"]) == (0.2016, 3)
    # Nine Elastic IPs: three NAT gateways' and six of the Submariner gateway pool; three for the NLB's zones.
    assert [i["quantity"] for i in items(us, "public IPv4 address (Elastic IP)")] == [9]
    assert [i["quantity"] for i in items(us, "public IPv4 address (internet-facing NLB")] == [3]


def test_every_item_is_hourly_times_quantity_times_hours_and_the_parts_add_up(estimate: dict[str, Any]) -> None:
    parts = [*estimate["clusters"].values(), estimate["shared"]]
    for part in parts:
        for item in part["items"]:
            assert item["monthly"] == pytest.approx(item["hourly"] * item["quantity"] * H, abs=0.005)
        assert part["monthly"] == pytest.approx(sum(i["monthly"] for i in part["items"]), abs=0.01)
    assert estimate["monthly"] == pytest.approx(sum(p["monthly"] for p in parts), abs=0.01)
    assert estimate["monthly"] == pytest.approx(sum(estimate["regions"].values()), abs=0.02)
    assert (estimate["currency"], estimate["hoursPerMonth"], estimate["priceDate"]) == ("USD", 730, prices.PRICE_DATE)


def test_what_no_source_prices_is_listed_and_left_out(estimate: dict[str, Any]) -> None:
    assert {"item": "Network Load Balancer", "region": "eu-west-1", "quantity": 1, "cluster": "prod-eu"} in estimate["unpriced"]
    assert not items(estimate["clusters"]["prod-eu"], "Network Load Balancer")
    assert any("data transfer" in n for n in estimate["notCounted"])
    assert any("GB ingested a month" in a for a in estimate["assumptions"])


def with_cluster(config: dict[str, Any], cluster: str, change: Any) -> None:
    config["fleet:clusters"] = [copy.deepcopy(c) for c in config["fleet:clusters"]]
    change(next(c for c in config["fleet:clusters"] if c["name"] == cluster))


def test_doubling_a_node_groups_desired_size_adds_exactly_its_instances(estimate: dict[str, Any]) -> None:
    def double_arm(cluster: dict[str, Any]) -> None:
        arm = next(g for g in cluster["nodeGroups"] if g["name"] == "arm")
        arm["desiredSize"] *= 2

    doubled = cost.estimate(run_stack("prod", mutate=lambda c: with_cluster(c, "prod-us", double_arm)))
    (before,) = items(estimate["clusters"]["prod-us"], "EC2 m7g.xlarge/m6g.xlarge (arm")
    (after,) = items(doubled["clusters"]["prod-us"], "EC2 m7g.xlarge/m6g.xlarge (arm")
    assert after["quantity"] == 2 * before["quantity"]
    added = before["quantity"] * before["hourly"] * H
    assert doubled["monthly"] - estimate["monthly"] == pytest.approx(added, abs=0.01)
    assert doubled["clusters"]["prod-eu"] == estimate["clusters"]["prod-eu"]


def test_extended_support_is_paid_only_once_standard_support_has_ended(estimate: dict[str, Any]) -> None:
    # EKS bills the extended price once the version leaves standard support, and only under EXTENDED
    # (under STANDARD it upgrades the cluster then): 1.35's standard support runs to 2027-03-27.
    extended = run_stack("prod", mutate=lambda c: with_cluster(c, "prod-eu", lambda x: x.update(supportType="EXTENDED")))
    now = cost.estimate(extended, dt.date(2026, 12, 7))
    assert now["monthly"] == estimate["monthly"]
    later = cost.estimate(extended, dt.date(2027, 3, 28))
    (plane,) = items(later["clusters"]["prod-eu"], "EKS control plane (1.35, extended support)")
    assert plane["hourly"] == 0.60
    assert later["monthly"] - estimate["monthly"] == pytest.approx(0.50 * H, abs=0.01)
    # Under STANDARD the same day costs the standard price: EKS has upgraded it.
    assert cost.estimate(run_stack("prod"), dt.date(2027, 3, 28))["monthly"] == estimate["monthly"]
    # The last day of standard support is still standard ("once past the end of standard support date").
    assert cost.estimate(extended, dt.date(2027, 3, 27))["monthly"] == estimate["monthly"]


def test_spot_is_bounded_by_its_dearest_types_on_demand_price(estimate: dict[str, Any]) -> None:
    (arm,) = items(estimate["clusters"]["prod-us"], "EC2 m7g.xlarge/m6g.xlarge (arm, Spot")
    assert arm["hourly"] == max(prices.ec2_on_demand("us-east-1", t).hourly for t in ("m7g.xlarge", "m6g.xlarge"))  # type: ignore[union-attr]


def test_node_root_volumes_are_listed_in_gigabytes(estimate: dict[str, Any]) -> None:
    # The launch templates give each node a 50 GB gp3 root volume; no sourced EBS price is on hand.
    volumes = {
        u["item"]: u["quantity"] for u in estimate["unpriced"] if u["cluster"] == "prod-us" and u["item"].startswith("EBS")
    }
    assert volumes["EBS gp3 node root volumes, GB (general)"] == 3 * 50


def test_the_cost_command_prints_json_and_text(capsys: pytest.CaptureFixture[str]) -> None:
    from plan.__main__ import main

    assert main(["prod", "--cost", "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert set(found) >= {"currency", "priceDate", "hoursPerMonth", "monthly", "clusters", "shared"}
    assert main(["prod", "--cost"]) == 0
    out = capsys.readouterr().out
    assert "not priced (no source on hand; out of the total): Network Load Balancer x 1 (eu-west-1)" in out
    assert f"total: ${found['monthly']:,.2f} a month" in out


def test_compare_and_upgrade_say_what_an_edit_costs(tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    import yaml

    from offline.stacks import stack_path
    from plan.__main__ import main

    document = yaml.safe_load(stack_path("prod").read_text())
    arm = next(g for g in document["config"]["fleet:clusters"][0]["nodeGroups"] if g["name"] == "arm")
    arm["desiredSize"] += 1
    changed = tmp_path / "Pulumi.prod.yaml"
    changed.write_text(yaml.safe_dump(document))
    main(["prod", "--compare", str(changed), "--json"])
    compared = json.loads(capsys.readouterr().out)["compare"]
    assert compared["monthlyCostChange"] == pytest.approx(0.1632 * H, abs=0.01)
    document = yaml.safe_load(stack_path("staging").read_text())
    document["config"]["fleet:kubernetesVersion"] = "1.34"
    behind = tmp_path / "staging"
    behind.mkdir()
    for path in stack_path("staging").parent.iterdir():
        if path.is_file():
            (behind / path.name).write_text(path.read_text())
    (behind / "Pulumi.staging.yaml").write_text(yaml.safe_dump(document))
    from offline import stacks

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(stacks, "STACK_DIR", behind)
        main(["staging", "--upgrade-to", "1.35", "--json", "--today", "2026-12-07"])
    instead = json.loads(capsys.readouterr().out)["extendedSupportInstead"]
    assert instead["perClusterMonthly"] == pytest.approx(0.50 * H)
    # Staging runs STANDARD: EKS upgrades it at the end of 1.34's standard support; it pays nothing extra.
    (entry,) = instead["clusters"]
    assert (entry["supportType"], entry["eksUpgradesItOn"], entry["payingNow"]) == ("STANDARD", "2026-12-02", False)
    assert instead["monthlyNow"] == 0
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(stacks, "STACK_DIR", behind)
        main(["staging", "--upgrade-to", "1.35", "--today", "2026-12-07"])
    assert "EKS upgrades staging-us on 2026-12-02 (STANDARD support)" in capsys.readouterr().out


# ---------------------------------------------------------------- the Price List refresh

HEADER = (
    '"SKU","OfferTermCode","RateCode","TermType","PriceDescription","EffectiveDate","StartingRange","EndingRange",'
    '"Unit","PricePerUnit","Currency","Product Family","Instance Type","Tenancy","Operating System","CapacityStatus",'
    '"Pre Installed S/W","Region Code","usageType"'
)


def row(**fields: str) -> str:
    base = {
        "SKU": "ABC",
        "OfferTermCode": "JRTCKXETXF",
        "RateCode": "ABC.JRTCKXETXF.6YS6EN2CT7",
        "TermType": "OnDemand",
        "PriceDescription": "per On Demand Linux m7i.xlarge Instance Hour",
        "EffectiveDate": "2026-11-01",
        "StartingRange": "0",
        "EndingRange": "Inf",
        "Unit": "Hrs",
        "PricePerUnit": "0.2016000000",
        "Currency": "USD",
        "Product Family": "Compute Instance",
        "Instance Type": "m7i.xlarge",
        "Tenancy": "Shared",
        "Operating System": "Linux",
        "CapacityStatus": "Used",
        "Pre Installed S/W": "NA",
        "Region Code": "us-east-1",
        "usageType": "BoxUsage:m7i.xlarge",
        **fields,
    }
    return ",".join(f'"{v}"' for v in base.values())


OFFER = [
    '"FormatVersion","v1.0"',
    '"Disclaimer","This pricing list is for informational purposes only."',
    '"Publication Date","2026-11-20T18:00:00Z"',
    '"Version","20261120180000"',
    '"OfferCode","AmazonEC2"',
    HEADER,
    row(**{"PricePerUnit": "0.2100000000"}),
    row(**{"Operating System": "Windows", "PricePerUnit": "0.3856"}),
    row(**{"Tenancy": "Dedicated", "PricePerUnit": "0.2218"}),
    row(**{"Pre Installed S/W": "SQL Std", "PricePerUnit": "0.6816"}),
    row(**{"CapacityStatus": "UnusedCapacityReservation", "PricePerUnit": "0.2100"}),
    row(**{"TermType": "Reserved", "Unit": "Quantity", "PricePerUnit": "1000"}),
    row(**{"Instance Type": "m7i.large", "PricePerUnit": "0.1050000000"}),
    row(
        **{"Product Family": "NAT Gateway", "Instance Type": "", "usageType": "NatGateway-Hours", "PricePerUnit": "0.0470000000"}
    ),
    row(
        **{
            "Product Family": "NAT Gateway",
            "Instance Type": "",
            "usageType": "NatGateway-Bytes",
            "Unit": "GB",
            "PricePerUnit": "0.047",
        }
    ),
]


def test_an_offer_files_on_demand_linux_shared_rows_are_the_prices() -> None:
    ec2, nat = prices_of(offer_rows(OFFER), "us-east-1", {"m7i.xlarge", "m7i.large"})
    assert ec2 == {"m7i.xlarge": 0.21, "m7i.large": 0.105}
    assert nat == 0.047


def test_rows_that_are_not_the_plain_on_demand_price_are_skipped_and_a_disagreement_stops() -> None:
    header = HEADER + ',"License Model","MarketOption"'
    plain = row(**{"PricePerUnit": "0.2100000000"}) + ',"No License required","OnDemand"'
    byol = row(**{"PricePerUnit": "0.1500000000"}) + ',"Bring your own license","OnDemand"'
    capacity_block = row(**{"PricePerUnit": "0.9000000000"}) + ',"No License required","CapacityBlock"'
    ec2, _ = prices_of(offer_rows([*OFFER[:5], header, byol, capacity_block, plain]), "us-east-1", {"m7i.xlarge"})
    assert ec2 == {"m7i.xlarge": 0.21}
    other = row(**{"PricePerUnit": "0.2200000000"}) + ',"No License required","OnDemand"'
    with pytest.raises(ValueError, match="two on-demand Linux rows disagree"):
        prices_of(offer_rows([*OFFER[:5], header, plain, other]), "us-east-1", {"m7i.xlarge"})


def test_a_refresh_rewrites_the_tables_prices_with_the_offers_version_and_date() -> None:
    table = json.loads(prices.PRICES_FILE.read_text())
    changed = refresh(table, "us-east-1", OFFER)
    assert "us-east-1 m7i.xlarge: 0.2016 -> 0.21" in changed
    entry = table["ec2OnDemand"]["us-east-1"]["m7i.xlarge"]
    assert entry == {
        "usd": 0.21,
        "source": "AWS Price List bulk API, AmazonEC2 us-east-1 offer (version 20261120180000)",
        "dated": "2026-11-20",
    }
    assert table["natGatewayHour"]["us-east-1"]["usd"] == 0.047
    # Types the table does not hold are not added: the table prices what the stacks use.
    assert "m7i.large" in table["ec2OnDemand"]["us-east-1"]
    assert set(table["ec2OnDemand"]["us-east-1"]) == set(json.loads(prices.PRICES_FILE.read_text())["ec2OnDemand"]["us-east-1"])
