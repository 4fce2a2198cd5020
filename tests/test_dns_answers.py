"""The Route 53 answer model (components/planning/dns_answers.py): every record of prod and staging,
every subset of failed clusters, and the rules the Route 53 Developer Guide states."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from components.aws.region_latency import round_trip_ms
from components.config.dns import RecordSpec, parse_record
from components.planning.checks import load_fleet
from components.planning.dns_answers import Answer, answers, latency_order, unanswered, unmeasured
from offline.harness import stack_config
from tests.config_cases import problems_after, raw_prod

REGIONS = {"prod-us": "us-east-1", "prod-eu": "eu-west-1", "mgmt": "us-east-1", "staging-us": "us-west-2"}


def record(**fields: Any) -> RecordSpec:
    return parse_record({"name": "x.example.com", **fields})


def shares(found: list[Answer]) -> dict[str, float]:
    return {a.cluster: a.share for a in found}


def test_weighted_shares_by_weight_and_fails_open() -> None:
    weighted = record(routing="weighted", weights={"prod-us": 70, "prod-eu": 30})
    assert shares(answers(weighted, REGIONS, set())) == {"prod-us": 0.7, "prod-eu": 0.3}
    assert shares(answers(weighted, REGIONS, {"prod-us"})) == {"prod-eu": 1.0}
    # Every record unhealthy: Route 53 treats them all as healthy.
    assert shares(answers(weighted, REGIONS, {"prod-us", "prod-eu"})) == {"prod-us": 0.7, "prod-eu": 0.3}


def test_weight_zero_is_a_second_tier_not_off() -> None:
    drained_by_weight = record(routing="weighted", weights={"prod-us": 100, "prod-eu": 0})
    assert shares(answers(drained_by_weight, REGIONS, set())) == {"prod-us": 1.0}
    # The weight-0 region takes everything once the others fail: a drain by weight 0 is undone by a failure.
    assert shares(answers(drained_by_weight, REGIONS, {"prod-us"})) == {"prod-eu": 1.0}
    # A drain removes the record set: nothing brings it back, fail-open included.
    assert answers(drained_by_weight, REGIONS, {"prod-us"}, frozenset({"prod-eu"})) == [Answer("prod-us", 1.0)]


def test_failover_primary_then_secondary_then_fail_open_to_the_primary() -> None:
    failover = record(routing="failover", primary="prod-us", secondary="prod-eu")
    assert answers(failover, REGIONS, set()) == [Answer("prod-us", 1.0)]
    assert answers(failover, REGIONS, {"prod-us"}) == [Answer("prod-eu", 1.0)]
    assert answers(failover, REGIONS, {"prod-us", "prod-eu"}) == [Answer("prod-us", 1.0)]


def test_latency_falls_back_to_the_next_nearest_healthy_region() -> None:
    latency = record(routing="latency", clusters=["prod-us", "prod-eu", "staging-us"])
    assert shares(answers(latency, REGIONS, set())) == pytest.approx({"prod-us": 1 / 3, "prod-eu": 1 / 3, "staging-us": 1 / 3})
    # By the measured inter-region proxy, Virginia is nearer Dublin (80.5 ms) than Oregon (87.8 ms):
    # continents do not decide (components/aws/region_latency.py).
    assert shares(answers(latency, REGIONS, {"prod-us"})) == pytest.approx({"prod-eu": 2 / 3, "staging-us": 1 / 3})
    assert shares(answers(latency, REGIONS, {"prod-us", "staging-us"})) == {"prod-eu": 1.0}
    assert unmeasured(latency, REGIONS, {"prod-us"}) == []


def test_latency_sends_a_failed_regions_clients_to_the_nearest_measured_survivor() -> None:
    # Issue 36 defect 7: the stand-in ranked other continents alphabetically, so US clients went to
    # Sydney (ap-southeast-2, 230 ms away) rather than Dublin (80.5 ms).
    regions = {"us": "us-east-1", "eu": "eu-west-1", "au": "ap-southeast-2"}
    latency = record(routing="latency", clusters=["us", "eu", "au"])
    assert latency_order("us-east-1", ["ap-southeast-2", "eu-west-1", "us-east-1"]) == [
        "us-east-1",
        "eu-west-1",
        "ap-southeast-2",
    ]
    assert shares(answers(latency, regions, {"us"})) == pytest.approx({"eu": 2 / 3, "au": 1 / 3})
    # Sydney's clients: Dublin is 309.6 ms away, Virginia 229.9 ms.
    assert latency_order("ap-southeast-2", ["eu-west-1", "us-east-1"]) == ["us-east-1", "eu-west-1"]
    assert round_trip_ms("us-east-1", "eu-west-1") == round_trip_ms("eu-west-1", "us-east-1")


def test_a_fallback_the_table_does_not_measure_is_named_not_guessed_silently() -> None:
    regions = {"us": "us-east-1", "ldn": "eu-west-2", "fra": "eu-central-1"}
    latency = record(routing="latency", clusters=["us", "ldn", "fra"])
    assert round_trip_ms("eu-west-2", "eu-central-1") is None
    # London is unmeasured from everywhere: the same continent first, and every pair named.
    assert latency_order("eu-west-2", ["us-east-1", "eu-central-1"]) == ["eu-central-1", "us-east-1"]
    # Review of #36: an unmeasured candidate never reorders the measured ones; it goes after them.
    assert latency_order("us-east-1", ["us-west-2", "eu-west-1"]) == ["eu-west-1", "us-west-2"]
    assert latency_order("us-east-1", ["us-west-2", "eu-west-2", "eu-west-1"]) == ["eu-west-1", "us-west-2", "eu-west-2"]
    assert unmeasured(latency, regions, {"ldn"}) == ["eu-west-2->eu-central-1", "eu-west-2->us-east-1"]
    assert unmeasured(latency, regions, {"fra"}) == ["eu-central-1->eu-west-2"]


def test_geolocation_falls_back_to_the_default_and_leaves_no_answer_past_it() -> None:
    geo = record(routing="geolocation", locations={"EU": "prod-eu", "default": "prod-us"})
    assert shares(answers(geo, REGIONS, set())) == {"prod-eu": 0.5, "prod-us": 0.5}
    assert shares(answers(geo, REGIONS, {"prod-eu"})) == {"prod-us": 1.0}
    # The default's record unhealthy while Europe's is not: the default's clients get no answer.
    assert shares(answers(geo, REGIONS, {"prod-us"})) == {"prod-eu": 0.5}
    assert unanswered(geo, REGIONS, {"prod-us"}) == 0.5
    assert shares(answers(geo, REGIONS, {"prod-us", "prod-eu"})) == {"prod-eu": 0.5, "prod-us": 0.5}


def stack_records(stack: str) -> list[RecordSpec]:
    raw = {k.removeprefix("fleet:"): v for k, v in stack_config(stack).items()}
    spec = load_fleet(raw)
    return list(spec.dns.records) if spec.dns else []


@pytest.mark.parametrize("stack", ["mgmt", "prod", "staging"])
def test_every_record_of_the_stacks_answers_every_failure_subset(stack: str) -> None:
    for rec in stack_records(stack):
        clusters = sorted({t.cluster for t in rec.targets()})
        for size in range(len(clusters) + 1):
            for down in itertools.combinations(clusters, size):
                found = answers(rec, REGIONS, set(down))
                total = sum(a.share for a in found)
                assert 0 < total <= 1 + 1e-9, (rec.name, down, found)
                survivors = set(clusters) - set(down)
                if survivors:
                    assert {a.cluster for a in found} <= survivors, (rec.name, down, found)
                else:
                    assert total == pytest.approx(1.0), "fail-open answers everyone"


@given(
    st.dictionaries(st.sampled_from(["prod-us", "prod-eu", "staging-us"]), st.integers(0, 255), min_size=1),
    st.sets(st.sampled_from(["prod-us", "prod-eu", "staging-us"])),
)
def test_weighted_answers_follow_the_tiers_for_any_weights_and_failures(weights: dict[str, int], down: set[str]) -> None:
    assume(any(weights.values()))  # validation refuses all-zero weights
    rec = record(routing="weighted", weights=weights)
    found = shares(answers(rec, REGIONS, down))
    assert sum(found.values()) == pytest.approx(1.0)
    up = [c for c in weights if c not in down] or list(weights)
    heavy = [c for c in up if weights[c] > 0]
    expected_tier = heavy or up
    assert set(found) == set(expected_tier)


def test_a_drain_that_would_leave_a_name_unanswered_or_a_failover_half_empty_is_refused() -> None:
    def drain(raw: dict[str, Any]) -> None:
        raw["dns"]["records"][0]["drained"] = ["prod-us", "prod-eu"]

    assert problems_after(drain) == [
        "fleet:dns.records[0]: drains prod-eu, prod-us, leaving api.example.com answered from 0 region(s); "
        "fleet:dns.minServingRegions is 1"
    ]
    (failover,) = problems_after(lambda raw: raw["clusters"][2].update(drained=True) or None)[:1] or [""]
    assert "a failover group is exactly one PRIMARY and one SECONDARY set" in failover
    (geo,) = [p for p in problems_after(lambda raw: raw["dns"]["records"][3].update(drained=["prod-us"])) if "default" in p]
    assert "point default at another cluster first" in geo


def test_draining_a_cluster_removes_its_record_sets_and_is_a_clean_transition() -> None:
    from offline.harness import run_stack
    from offline.transition import transition

    def drain_eu(config: dict[str, Any]) -> None:
        for rec in config["fleet:dns"]["records"]:
            if rec["routing"] in ("weighted", "latency"):
                rec["drained"] = ["prod-eu"]

    before, after = run_stack("fleet"), run_stack("fleet", mutate=drain_eu)
    moved = transition(before, after)
    assert moved.violations == []
    assert {(c.action, c.type) for c in moved.changes} == {("delete", "aws:route53/record:Record")}
    assert sorted(c.name for c in moved.changes) == [
        "traffic-api.example.com-prod-eu",
        "traffic-www.example.com-prod-eu",
    ]
    assert after.exports["dns"]["api.example.com"]["drained"] == ["prod-eu"]
    assert "drained" not in before.exports["dns"]["api.example.com"]
    back = transition(after, before)
    assert back.violations == []
    assert {c.action for c in back.changes} == {"create"}
    raw = raw_prod()
    raw["dns"]["records"][0]["drained"] = ["prod-eu"]
    assert answers(load_fleet(raw).dns.records[0], REGIONS, {"prod-us"}, frozenset({"prod-eu"})) == [Answer("prod-us", 1.0)]  # type: ignore[union-attr]
