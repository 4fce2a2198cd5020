"""What Route 53 answers for each record the fleet registers, for any set of unhealthy clusters.

Every record set the program registers is an alias to a cluster's edge NLB with
``evaluate_target_health`` and that edge's health check (components/resources/dns.py), so a
record set is healthy exactly when its cluster's edge is up. Rules, from the Route 53 Developer
Guide, "How Amazon Route 53 chooses records when health checking is configured" and the routing
policy pages:

- **Fail-open:** when every record set of a name and type is unhealthy, Route 53 treats them all
  as healthy and answers as if nothing had failed.
- **Weighted:** healthy non-zero-weight records share traffic by weight. Weight 0 is a second
  tier, not "off": once every non-zero record is unhealthy, healthy zero-weight records answer,
  in equal shares. (With all weights 0, the records share equally.)
- **Failover:** the primary while it is healthy, else the secondary while it is healthy; both
  unhealthy is the fail-open case (the primary).
- **Latency:** the lowest-latency region's record for the client; when it is unhealthy, the next
  lowest healthy one. The model places clients in each region the record serves, in equal shares,
  and ranks the other regions by the round trip measured between the regions (a 2017 inter-region
  proxy, components/aws/region_latency.py: Route 53 uses its own client measurements, which it does
  not publish). A pair the table lacks ranks after every measured one, by continent, and is named
  (``unmeasured``) wherever a what-if relies on it.
- **Geolocation:** the record of the most specific location that contains the client (country,
  then continent, then the default); an unhealthy one hands its clients to the next larger
  location's record, up to the default (here: straight to the default, as no country-to-continent
  table is kept). With no healthy record left for them, those clients get
  no answer unless every record is unhealthy (fail-open). Clients are placed in equal shares per
  location the record names.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import assert_never

from ..aws import region_latency
from ..config.model import FailoverRecord, FleetSpec, GeolocationRecord, LatencyRecord, RecordSpec, RecordTarget, WeightedRecord


@dataclass(frozen=True)
class Answer:
    cluster: str
    share: float
    """Of the name's traffic, 0..1; the shares of one answer set sum to 1 (or to 0: no answer)."""


def _continent(region: str) -> str:
    prefix = region.split("-")[0]
    return {"us": "NA", "ca": "NA", "mx": "NA", "sa": "SA", "eu": "EU", "af": "AF", "me": "AS", "il": "AS"}.get(prefix, "AS")


def latency_order(client: str, regions: list[str]) -> list[str]:
    """``regions`` from nearest to farthest for a client in ``client``: the measured ones by round trip
    (an unmeasured candidate never reorders them), then the unmeasured, same continent first; the
    what-if names every unmeasured pair it relies on (``unmeasured``)."""
    ms = {region: region_latency.round_trip_ms(client, region) for region in regions}
    return sorted(
        regions,
        key=lambda r: (ms[r] is None, ms[r] or 0.0, _continent(r) != _continent(client), r),
    )


def unmeasured(record: RecordSpec, regions: Mapping[str, str], down: set[str]) -> list[str]:
    """The region pairs (``client->region``) a latency record's clients fall back across while
    ``down`` is unhealthy that the sourced table does not measure: their order is a guess."""
    if not isinstance(record, LatencyRecord):
        return []
    clusters = {t.cluster for t in record.serving_targets(set())}
    served = sorted({regions[c] for c in clusters})
    failed = {region for region in served if all(c in down for c in clusters if regions[c] == region)}
    return [
        f"{client}->{other}"
        for client in served
        if client in failed
        for other in served
        if other != client and region_latency.round_trip_ms(client, other) is None
    ]


def _merge(answers: list[Answer]) -> list[Answer]:
    shares: dict[str, float] = defaultdict(float)
    for answer in answers:
        shares[answer.cluster] += answer.share
    return [Answer(c, s) for c, s in sorted(shares.items()) if s > 0]


def answers(
    record: RecordSpec, regions: Mapping[str, str], down: set[str], drained: frozenset[str] = frozenset()
) -> list[Answer]:
    """Who answers for ``record`` while the clusters in ``down`` are unhealthy (``regions``: cluster -> region).
    Drained clusters have no record set at all, so they never answer, fail-open included."""
    targets = record.serving_targets(set(drained))
    clusters = sorted({target.cluster for target in targets})
    if not clusters:
        return []
    if all(c in down for c in clusters):
        down = set()  # fail-open
    up = [c for c in clusters if c not in down]
    match record:
        case WeightedRecord(weights=weights):
            tier = [c for c in up if weights[c] > 0] or [c for c in up if weights[c] == 0]
            total = sum(weights[c] for c in tier)
            return _merge([Answer(c, weights[c] / total if total else 1 / len(tier)) for c in tier])
        case FailoverRecord(primary=primary, secondary=secondary):
            return [Answer(primary if primary not in down else secondary, 1.0)]
        case LatencyRecord():
            served = sorted({regions[c] for c in clusters})
            found = []
            for client in served:
                for region in latency_order(client, served):
                    healthy = [c for c in up if regions[c] == region]
                    if healthy:
                        found += [Answer(c, 1 / len(served) / len(healthy)) for c in healthy]
                        break
            return _merge(found)
        case GeolocationRecord():
            return _merge(_geolocation(targets, down))
        case _:
            assert_never(record)


def _geolocation(all_targets: list[RecordTarget], down: set[str]) -> list[Answer]:
    targets = [t for t in all_targets if t.location is not None]
    by_location = {t.location: t.cluster for t in targets if t.location is not None}
    default = next((loc for loc in by_location if loc.is_default), None)
    found = []
    for location in by_location:
        # The chain a client of this location falls back along: itself, then the default. (A country's
        # continent record would come between; there is no country-to-continent table here.)
        chain = [location, *([default] if default is not None and default != location else [])]
        serving = next((by_location[loc] for loc in chain if by_location[loc] not in down), None)
        if serving is not None:
            found.append(Answer(serving, 1 / len(by_location)))
    return found


def unanswered(record: RecordSpec, regions: Mapping[str, str], down: set[str], drained: frozenset[str] = frozenset()) -> float:
    """The share of the name's clients that get no answer (geolocation only, see the module docstring)."""
    return round(1 - sum(a.share for a in answers(record, regions, down, drained)), 6)


def arc_refuses(spec: FleetSpec, switched_off: set[str]) -> str | None:
    """Why ARC refuses to turn the routing controls of ``switched_off`` Off, or None: the control
    panel's safety rule keeps at least fleet:dns.minServingRegions On (components/resources/recovery.py),
    so such a state is not Route 53 failing open but a change ARC never makes."""
    if not switched_off or spec.dns is None:
        return None
    left = spec.served_clusters() - switched_off
    if len(left) >= spec.dns.min_serving_regions:
        return None
    return (
        f"ARC refuses it: its safety rule keeps at least {spec.dns.min_serving_regions} routing control(s) On "
        f"(fleet:dns.minServingRegions) and this leaves {len(left)}; only --override-safety-rules gets there"
    )
