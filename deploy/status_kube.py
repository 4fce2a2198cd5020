"""What ``deploy status`` reads from a cluster's own API, with the caller's AWS identity: Ready nodes per
node group, Submariner's gateways and their connections, and the hub's Argo CD applications.

The bearer token is EKS's: ``k8s-aws-v1.`` and the base64url (unpadded) of an STS GetCallerIdentity
URL presigned for 60 s with the ``x-k8s-aws-id`` header naming the cluster (kubernetes-sigs/
aws-iam-authenticator pkg/token/token.go: v1Prefix, clusterIDHeader, requestPresignParam). The API's
certificate is checked against the cluster's certificate authority from DescribeCluster. A cluster
whose API does not answer, or refuses the caller, is said so; it never fails the command by itself.
"""

from __future__ import annotations

import base64
import http.client
import json
import ssl
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

TOKEN_PREFIX = "k8s-aws-v1."
CLUSTER_ID_HEADER = "x-k8s-aws-id"
PRESIGN_SECONDS = 60
TIMEOUT_SECONDS = 5

NODE_GROUP_NODE_LABEL = "eks.amazonaws.com/nodegroup"
"""EKS labels every node of a managed node group with the group's name."""
NODES = "/api/v1/nodes"
GATEWAYS = "/apis/submariner.io/v1/namespaces/submariner-operator/gateways"
APPLICATIONS = "/apis/argoproj.io/v1alpha1/namespaces/argocd/applications"


_TOKEN_LOCK = threading.Lock()
_STS: dict[str, Any] = {}


def _sts_client(region: str) -> Any:
    """One STS client per region, made once: a role profile's credentials are resolved (and assumed) once,
    not per request."""
    import boto3

    if region not in _STS:
        _STS[region] = boto3.session.Session().client("sts", region_name=region)
    return _STS[region]


def eks_token(cluster: str, region: str) -> str:
    """As ``aws eks get-token`` makes it (awscli customizations/eks/get_token.py): the regional STS
    endpoint of the region's partition, the cluster header added before signing."""
    with _TOKEN_LOCK:
        sts = _sts_client(region)

    def add_cluster_header(request: Any, **_: Any) -> None:
        request.headers[CLUSTER_ID_HEADER] = cluster

    # The client is shared: the handler is registered for this one presign, under the lock.
    with _TOKEN_LOCK:
        sts.meta.events.register("before-sign.sts.GetCallerIdentity", add_cluster_header)
        try:
            url = sts.generate_presigned_url("get_caller_identity", Params={}, ExpiresIn=PRESIGN_SECONDS, HttpMethod="GET")
        finally:
            sts.meta.events.unregister("before-sign.sts.GetCallerIdentity", add_cluster_header)
    return TOKEN_PREFIX + base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")


@dataclass(frozen=True)
class Api:
    cluster: str
    region: str
    endpoint: str
    certificate_authority: str
    """Base64 PEM, as DescribeCluster returns it."""


Getter = Callable[[Api, str], Any]
"""(the cluster's API, a path) -> the decoded JSON object; raises OSError when it cannot be read."""


def https_get(api: Api, path: str) -> Any:
    try:
        context = ssl.create_default_context(cadata=base64.b64decode(api.certificate_authority).decode())
    except ssl.SSLError as error:  # an SSLError is an OSError: say it is the authority, not the network
        raise ValueError(f"the cluster's certificate authority does not load: {error}") from None
    request = urllib.request.Request(
        api.endpoint.rstrip("/") + path, headers={"Authorization": f"Bearer {eks_token(api.cluster, api.region)}"}
    )
    with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS, context=context) as response:  # an https endpoint EKS gave
        return json.load(response)


def ready_nodes(nodes: Mapping[str, Any]) -> dict[str, int]:
    """Ready nodes per managed node group name."""
    counts: dict[str, int] = {}
    for node in nodes.get("items", []):
        group = (node.get("metadata", {}).get("labels") or {}).get(NODE_GROUP_NODE_LABEL)
        ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in node.get("status", {}).get("conditions", []))
        if group:
            counts[group] = counts.get(group, 0) + int(ready)
    return counts


def gateways(listed: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Each Submariner Gateway: its HA status and each connection's peer cluster and status."""
    return [
        {
            "gateway": g.get("metadata", {}).get("name"),
            "haStatus": g.get("status", {}).get("haStatus"),
            "connections": {
                c.get("endpoint", {}).get("cluster_id", "?"): c.get("status")
                for c in g.get("status", {}).get("connections") or []
            },
        }
        for g in listed.get("items", [])
    ]


def applications(listed: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Each Argo CD Application's sync and health status."""
    return {
        a.get("metadata", {}).get("name"): {
            "sync": (a.get("status", {}).get("sync") or {}).get("status"),
            "health": (a.get("status", {}).get("health") or {}).get("status"),
        }
        for a in listed.get("items", [])
    }


def read(api: Api, get: Getter, clusterset: bool, hub: bool) -> tuple[dict[str, Any] | str, list[str]]:
    """The cluster's Kubernetes view and its problems, or why it could not be read."""
    try:
        found: dict[str, Any] = {"readyNodes": ready_nodes(get(api, NODES))}
        if clusterset:
            found["gateways"] = gateways(get(api, GATEWAYS))
        if hub:
            found["applications"] = applications(get(api, APPLICATIONS))
    except urllib.error.HTTPError as error:
        return f"refused ({error.code}): the caller has no access to this cluster's API", []
    except (OSError, http.client.HTTPException) as error:
        return f"unreachable: {error}", []
    except ValueError as error:  # a certificate authority or an answer that does not decode
        return f"unreadable: {error}", []
    except (BotoCoreError, ClientError) as error:
        return f"no token: {error}", []
    problems = []
    for gateway in found.get("gateways", []):
        problems += [
            f"Submariner gateway {gateway['gateway']}: connection to {peer} is {state}"
            for peer, state in sorted(gateway["connections"].items())
            if state != "connected"
        ]
    if clusterset and not any(g["haStatus"] == "active" for g in found.get("gateways", [])):
        problems.append("no active Submariner gateway")
    problems += [
        f"Argo CD application {name}: {state['sync']}, {state['health']}"
        for name, state in sorted(found.get("applications", {}).items())
        if state["health"] not in ("Healthy", None) or state["sync"] not in ("Synced", None)
    ]
    return found, problems
