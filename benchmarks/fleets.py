"""Generated fleet configs of any size: the prod stack's settings (and mgmt's Argo CD) with N clusters, one stack.

Cluster 0 is the hub (Argo CD, Submariner broker); the rest are production clusters spread over
the regions round-robin, every one joined to the clusterset and to one weighted record.
"""

from __future__ import annotations

import copy
from typing import Any

from offline.harness import stack_config

REGIONS = ("us-east-1", "eu-west-1", "us-west-2")
# A /20 each: 192 service ranges from 172.20.0.0 to the end of 172.16.0.0/12.
SERVICE_BLOCKS_PER_16 = 16
# One 10.x.0.0/16 VPC each, from 10.10: at most 246; a hundred is the size the benchmarks go to.
MAX_SIZE = 100


def _service_cidr(index: int) -> str:
    return f"172.{20 + index // SERVICE_BLOCKS_PER_16}.{(index % SERVICE_BLOCKS_PER_16) * 16}.0/20"


def _cluster(index: int) -> dict[str, Any]:
    hub = index == 0
    cluster: dict[str, Any] = {
        "name": "hub" if hub else f"c{index:02d}",
        "region": REGIONS[0] if hub else REGIONS[(index - 1) % len(REGIONS)],
        "vpcCidr": f"10.{10 + index}.0.0/16",
        "serviceCidr": _service_cidr(index),
        "availabilityZones": 3,
        "labels": {"environment": "management" if hub else "production"},
        "nodeGroups": [
            {
                "name": "system" if hub else "general",
                "instanceTypes": ["m7g.large" if hub else "m7i.xlarge"],
                "minSize": 3,
                "maxSize": 6,
                "desiredSize": 3,
            }
        ],
    }
    if hub:
        cluster["role"] = "hub"
    else:
        cluster["labels"]["overlay"] = "production-us" if cluster["region"] != "eu-west-1" else "production-eu"
    return cluster


def generated_fleet(size: int, interconnect: str | None = None, gateway_peers: str | None = None) -> dict[str, Any]:
    """Stack config (``fleet:*`` keys, Python values) for a fleet of ``size`` clusters.

    ``interconnect`` sets fleet:interconnect.mode; by default the fleet's size chooses it.
    ``gateway_peers`` sets fleet:submariner.gatewayPeers (default: pools). The
    account is a fresh one: no raised quotas are declared, so the preflight lists what to raise.
    """
    if not 1 <= size <= MAX_SIZE:
        raise ValueError(f"fleet size {size}: between 1 and {MAX_SIZE} clusters (one 10.x/16 and service /20 each)")
    config = copy.deepcopy(stack_config("prod"))
    config.pop("fleet:quotas", None)
    # The generated fleet stands alone, its hub in the same stack (cluster 0) with mgmt's Argo CD:
    # it joins no other stack's hub, and no member stack is registered into its own.
    config.pop("fleet:hub", None)
    config.pop("fleet:members", None)
    config["fleet:argocd"] = copy.deepcopy(stack_config("mgmt")["fleet:argocd"])
    config.pop("fleet:interconnect", None)
    if interconnect is not None:
        config["fleet:interconnect"] = {"mode": interconnect}
    clusters = [_cluster(i) for i in range(size)]
    config["fleet:clusters"] = clusters
    workloads = [c["name"] for c in clusters if c.get("role") != "hub"] or [clusters[0]["name"]]
    config["fleet:dns"]["records"] = [{"name": "api.example.com", "routing": "weighted", "weights": dict.fromkeys(workloads, 10)}]
    submariner = config["fleet:submariner"]
    submariner.pop("clusters", None)  # every cluster joins
    submariner["broker"] = clusters[0]["name"]
    # A clusterset needs two members: one cluster alone runs without Submariner.
    submariner["enabled"] = size >= 2
    if gateway_peers is not None:
        submariner["gatewayPeers"] = gateway_peers
    return config
