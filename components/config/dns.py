"""Global traffic (fleet:dns): the hosted zone, health checks and the records, one class per routing policy.

``RecordSpec`` is a union discriminated on ``routing``. Each policy owns what differs between
policies: the record sets it registers (``targets``), the clusters it names, its Route53 routing
argument and its line in the ``dns`` output. Who answers while clusters are down is the one rule
outside the classes (``components.planning.dns_answers.answers``), matched exhaustively. Adding a
policy is one class here plus one case there; a class missing a method fails the type check
against ``RoutingPolicy`` below.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, ClassVar, Literal, Protocol, get_args

from pydantic import Field, StringConstraints, TypeAdapter, model_validator

from ..aws import geo
from .access import AccountSpec
from .types import DnsLabel, DomainName, IamPrincipalArn, Model, Region

ARC_ARN = r"^arn:aws[a-z-]*:route53-recovery-control::[0-9]{12}:controlpanel/[^/\s]+/(routingcontrol|safetyrule)/[^/\s]+$"
ArcArn = Annotated[str, StringConstraints(pattern=ARC_ARN)]
HttpsUrl = Annotated[str, StringConstraints(pattern=r"^https://[^\s/]+(/\S*)?$")]


class ArcRuntimeSpec(Model):
    """What python -m deploy failover needs with AWS credentials alone, written here by the deploy that
    creates the controls (python -m deploy --up): the ARC cluster's data-plane endpoints, the routing
    controls and the safety rules. Reading them from the stack's outputs would need the Pulumi backend
    and secrets provider, which an incident may have taken; the ARC config API is in us-west-2 only."""

    cluster_endpoints: dict[Region, HttpsUrl]
    """Per Region, the ARC cluster's endpoint (ClusterEndpoints): any one may be down."""
    routing_controls: dict[DnsLabel, ArcArn]
    """Per serving cluster, its routing control."""
    safety_rules: list[ArcArn] = Field(default_factory=list)
    """The control panel's safety rules, which --override-safety-rules names."""


class HealthCheckSpec(Model):
    protocol: Literal["HTTP", "HTTPS", "TCP"] = "HTTPS"
    """How Route53 probes each edge; HTTPS sends <cluster>.<edgeSubdomain>.<zone> as SNI and Host."""
    port: Annotated[int, Field(ge=1, le=65535)] | None = None
    """Defaults to each edge's listener port; when set it must equal every owned edge's listener port."""
    path: str | None = "/healthz"
    """Request path for HTTP(S) checks; must be unset for TCP."""
    failure_threshold: Annotated[int, Field(ge=1, le=10)] = 3
    """Consecutive failed probes before an edge counts as unhealthy, 1 to 10."""
    request_interval: Literal[10, 30] = 30
    """Seconds between checks; Route53 offers 10 (fast, billed higher) or 30."""

    @model_validator(mode="after")
    def _path_fits_protocol(self) -> HealthCheckSpec:
        if self.protocol == "TCP":
            if "path" in self.model_fields_set and self.path is not None:
                raise ValueError("path is only for HTTP and HTTPS health checks")
            return self
        path = self.path or ""
        if not path.startswith("/") or len(path) > 255 or any(c.isspace() for c in path):
            raise ValueError(f"path {path!r} must start with '/', have no spaces and be at most 255 characters")
        return self

    @property
    def resource_path(self) -> str | None:
        return None if self.protocol == "TCP" else self.path


@dataclass(frozen=True)
class RecordTarget:
    """One record set of a DNS name: its stable set identifier, cluster and (geolocation) location.

    The identifier names what the set is for, never whom it sends traffic to, wherever Route 53 allows
    one set per role: a failover name's sets are ``primary`` and ``secondary`` (one PRIMARY and one
    SECONDARY, API reference ``ResourceRecordSet.Failover``), a geolocation name's are its locations
    (one set per location and name). Moving traffic is then an in-place UPSERT of a set's target,
    never two sets briefly holding one role. Weighted and latency sets are one per cluster.
    """

    set_identifier: str
    cluster: str
    location: geo.Location | None = None
    legacy_identifier: str | None = None
    """The identifier this set had while failover and geolocation sets were named by cluster: state
    under it is this set (an alias), replaced delete-first, as Route 53 allows the role once."""


@dataclass(frozen=True)
class Route53Policy:
    """A record set's routing policy as aws.route53.Record takes it: the argument and its one block's values."""

    argument: str
    """e.g. weighted_routing_policies."""
    values: dict[str, object]
    """The block's fields, e.g. {"weight": 70}."""


class DemandSpec(Model):
    vcpu: Annotated[float, Field(gt=0)]
    """vCPU the workload behind the name requests at 100% of its traffic."""
    memory_gib: Annotated[float, Field(gt=0)]
    """Memory (GiB) it requests at 100% of its traffic."""
    architecture: Literal["amd64", "arm64", "any"] = "amd64"
    """The node architecture its images run on (kubernetes.io/arch); only such nodes count as capacity."""


# A front's target: a label no application name uses (DNS allows the underscore; Route 53 stores it
# as is) naming the policy, so each policy's sets have their own name and never meet another's.
FRONT_PREFIX = "_fleet-"
DNS_NAME_MAX = 253


class _Record(Model):
    """What a record of every routing policy has: its name, its drains and the demand behind it."""

    FIELDS: ClassVar[tuple[str, ...]]
    """The fields this policy needs (and no other policy's)."""

    name: DomainName
    """The record's name, inside the zone, unique among the records."""
    drained: list[DnsLabel] = Field(default_factory=list)
    """Clusters taken out of this name's answers (their record sets are removed; weight 0 would still answer)."""
    demand: DemandSpec | None = None
    """What 100% of this name's traffic needs, for the capacity verdict (plan --what-if) and fleet:dns.survive."""
    demand_from: DnsLabel | None = None
    """Instead of demand: the ApplicationSet serving this name; plan --what-if sums its Applications'
    overlays (replicas x requests, built with kustomize) as the load at 100% of the traffic."""
    front: bool = False
    """The name is one alias record to the routing policy's own name (_fleet-<routing>.<name>), whose sets
    route: a later change of routing is then one in-place alias update, the name answered throughout.
    Set it on every new name; turning it on for a live name removes and re-adds the name once."""

    @model_validator(mode="after")
    def _one_demand(self) -> _Record:
        if self.demand is not None and self.demand_from is not None:
            raise ValueError("set demand or demandFrom, not both")
        if self.front and len(self.routed_name) > DNS_NAME_MAX:
            raise ValueError(
                f"front: the routing's own name {self.routed_name} is longer than {DNS_NAME_MAX} characters; shorten the name"
            )
        return self

    @property
    def routed_name(self) -> str:
        """Where the routing policy's sets live: the name itself, or with front its policy's own name."""
        routing = str(getattr(self, "routing", ""))
        return f"{FRONT_PREFIX}{routing}.{self.name}" if self.front else self.name

    def targets(self) -> list[RecordTarget]:
        raise NotImplementedError

    def policy_clusters(self) -> list[tuple[str, str]]:
        raise NotImplementedError

    def serving_targets(self, drained: set[str]) -> list[RecordTarget]:
        """The record sets registered: every target but the drained clusters' (this record's and the fleet's)."""
        out = drained | set(self.drained)
        return [t for t in self.targets() if t.cluster not in out]

    def referenced_clusters(self) -> list[tuple[str, str]]:
        """(config sub-path, cluster name) for every cluster the record names."""
        return self.policy_clusters() + [(f"drained[{i}]", c) for i, c in enumerate(self.drained)]


class WeightedRecord(_Record):
    FIELDS: ClassVar[tuple[str, ...]] = ("weights",)
    routing: Literal["weighted"]
    """weighted: answers split by weight among the healthy targets."""
    weights: dict[str, Annotated[int, Field(ge=0, le=255)]]
    """Cluster name -> relative weight 0..255."""

    @model_validator(mode="after")
    def _some_weight(self) -> WeightedRecord:
        if not self.weights:
            raise ValueError("weights needs at least one cluster")
        if not any(self.weights.values()):
            raise ValueError("weights are all 0: Route53 would answer with every target regardless of weight")
        return self

    def targets(self) -> list[RecordTarget]:
        return [RecordTarget(cluster, cluster) for cluster in sorted(self.weights)]

    def policy_clusters(self) -> list[tuple[str, str]]:
        return [(f"weights.{c}", c) for c in self.weights]

    def route53_policy(self, target: RecordTarget, region: str) -> Route53Policy:
        return Route53Policy("weighted_routing_policies", {"weight": self.weights[target.cluster]})

    def describe(self, target: RecordTarget) -> dict[str, object]:
        return {"weight": self.weights[target.cluster]}


PRIMARY, SECONDARY = "primary", "secondary"
"""A failover name's two set identifiers: its roles."""


class FailoverRecord(_Record):
    FIELDS: ClassVar[tuple[str, ...]] = ("primary", "secondary")
    routing: Literal["failover"]
    """failover: the primary while it is healthy, else the secondary."""
    primary: str
    """The cluster that serves while healthy."""
    secondary: str
    """The cluster that serves when the primary is unhealthy."""

    @model_validator(mode="after")
    def _two_clusters(self) -> FailoverRecord:
        if self.primary == self.secondary:
            raise ValueError(f"primary and secondary are both {self.primary!r}; failover needs two clusters")
        return self

    def targets(self) -> list[RecordTarget]:
        return [
            RecordTarget(PRIMARY, self.primary, legacy_identifier=self.primary),
            RecordTarget(SECONDARY, self.secondary, legacy_identifier=self.secondary),
        ]

    def policy_clusters(self) -> list[tuple[str, str]]:
        return [("primary", self.primary), ("secondary", self.secondary)]

    def role(self, target: RecordTarget) -> str:
        return target.set_identifier.upper()

    def route53_policy(self, target: RecordTarget, region: str) -> Route53Policy:
        return Route53Policy("failover_routing_policies", {"type": self.role(target)})

    def describe(self, target: RecordTarget) -> dict[str, object]:
        return {"failover": self.role(target)}


class LatencyRecord(_Record):
    FIELDS: ClassVar[tuple[str, ...]] = ("clusters",)
    routing: Literal["latency"]
    """latency: the healthy target with the lowest latency from the resolver."""
    clusters: list[str]
    """Clusters to answer from, each for its region."""

    @model_validator(mode="after")
    def _distinct(self) -> LatencyRecord:
        if not self.clusters:
            raise ValueError("clusters needs at least one cluster")
        if len(set(self.clusters)) != len(self.clusters):
            raise ValueError(f"clusters lists a cluster twice: {self.clusters}")
        return self

    def targets(self) -> list[RecordTarget]:
        return [RecordTarget(cluster, cluster) for cluster in sorted(self.clusters)]

    def policy_clusters(self) -> list[tuple[str, str]]:
        return [(f"clusters[{i}]", c) for i, c in enumerate(self.clusters)]

    def route53_policy(self, target: RecordTarget, region: str) -> Route53Policy:
        return Route53Policy("latency_routing_policies", {"region": region})

    def describe(self, target: RecordTarget) -> dict[str, object]:
        return {}


class GeolocationRecord(_Record):
    FIELDS: ClassVar[tuple[str, ...]] = ("locations",)
    routing: Literal["geolocation"]
    """geolocation: the target for the client's country or continent, else the default."""
    locations: dict[str, str]
    """Continent/country code (or default) -> cluster name."""

    @model_validator(mode="after")
    def _known_locations(self) -> GeolocationRecord:
        problems = []
        for code in self.locations:
            try:
                geo.parse_location(code)
            except ValueError as exc:
                problems.append(str(exc))
        if sum(code == geo.DEFAULT for code in self.locations) != 1:
            problems.append("locations needs exactly one 'default' entry, for clients no other location matches")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def targets(self) -> list[RecordTarget]:
        located = [(geo.parse_location(code), cluster) for code, cluster in self.locations.items()]
        return sorted(
            (
                RecordTarget(location.slug, cluster, location, legacy_identifier=f"{cluster}-{location.slug}")
                for location, cluster in located
            ),
            key=lambda target: target.set_identifier,
        )

    def policy_clusters(self) -> list[tuple[str, str]]:
        return [(f"locations.{code}", c) for code, c in self.locations.items()]

    @property
    def default_cluster(self) -> str:
        return self.locations[geo.DEFAULT]

    def route53_policy(self, target: RecordTarget, region: str) -> Route53Policy:
        location = target.location
        assert location is not None, "geolocation targets always carry their location"
        country = "*" if location.is_default else location.country
        return Route53Policy("geolocation_routing_policies", {"continent": location.continent, "country": country})

    def describe(self, target: RecordTarget) -> dict[str, object]:
        return {"location": target.location.slug} if target.location is not None else {}


RecordSpec = Annotated[WeightedRecord | FailoverRecord | LatencyRecord | GeolocationRecord, Field(discriminator="routing")]


class RoutingPolicy(Protocol):
    """What every routing policy's record class must answer; ROUTING_POLICIES is checked against it."""

    FIELDS: ClassVar[tuple[str, ...]]

    def targets(self) -> list[RecordTarget]: ...

    def policy_clusters(self) -> list[tuple[str, str]]: ...

    def route53_policy(self, target: RecordTarget, region: str) -> Route53Policy: ...

    def describe(self, target: RecordTarget) -> dict[str, object]: ...


ROUTING_POLICIES: tuple[type[RoutingPolicy], ...] = (WeightedRecord, FailoverRecord, LatencyRecord, GeolocationRecord)


def routing_of(policy: type[RoutingPolicy]) -> str:
    """The ``routing`` value that selects ``policy``."""
    return str(get_args(policy.model_fields["routing"].annotation)[0])  # type: ignore[attr-defined]


_RECORD = TypeAdapter(RecordSpec)


def parse_record(data: object) -> RecordSpec:
    """One record (a fleet:dns.records entry) validated on its own, its policy chosen by ``routing``."""
    return _RECORD.validate_python(data)


# routing value -> the fields that policy needs.
ROUTING_FIELDS: dict[str, tuple[str, ...]] = {routing_of(p): p.FIELDS for p in ROUTING_POLICIES}


class DnsAccountSpec(AccountSpec):
    """The account that holds the hosted zone, reached by assuming a role there."""

    preview_role_arn: IamPrincipalArn | None = None
    """Assumed instead of roleArn by pulumi preview (read-only Route 53 there); unset: roleArn."""


class DnsSpec(Model):
    zone: DomainName
    """An existing public hosted zone, looked up by name."""
    edge_subdomain: DnsLabel = "edge"
    """Each edge also gets <cluster>.<edgeSubdomain>.<zone>: health checks send it as Host/SNI; it reaches one region."""
    health_check: HealthCheckSpec = Field(default_factory=HealthCheckSpec)
    """The health check every edge gets."""
    records: Annotated[list[RecordSpec], Field(min_length=1)]
    """The global names, each with its routing policy."""
    min_serving_regions: Annotated[int, Field(ge=1)] = 1
    """No drain may leave a name answered from fewer regions than this (and ARC's safety rule keeps this many on)."""
    arc: bool = False
    """Route 53 ARC routing controls: one per serving cluster, ANDed into its records' health, flipped by
    python -m deploy failover (a control panel and cluster in us-west-2, billed per cluster-hour)."""
    survive: Annotated[int, Field(ge=0)] | None = None
    """Regions whose loss the survivors must carry (every such failure, checked before deploy); unset: 1
    when some record declares demand, else 0."""
    account: DnsAccountSpec | None = None
    """The account holding the zone (a DNS account): records and health checks are made there by assuming its role."""
    arc_runtime: ArcRuntimeSpec | None = None
    """Written by python -m deploy --up when fleet:dns.arc is on: what deploy failover reads (never edit it)."""

    @model_validator(mode="after")
    def _arc_stays_with_its_controls(self) -> DnsSpec:
        if self.account is not None and self.arc:
            raise ValueError(
                "arc with account: ARC's health checks read routing controls of this stack's account; keep the zone "
                "in this account, or drop arc"
            )
        return self
