"""The fleet's guardrails as plain validators, and their CrossGuard policies.

Validators take a :class:`Resource` (type, name, inputs, options) and return violation messages,
so the tests run them over what the program registers under mocks without the policy engine.
``policies()`` wraps them for ``pulumi_policy``. This module imports nothing from the program:
the pack runs in its own virtualenv (``policy/requirements.txt``) beside any stack.

What the engine hands a policy differs from the program's view in two ways this module handles:
pulumi-eks components arrive both as the ``eks:index:*`` component and as the ``aws:eks/*``
resources the eks provider creates, so cluster and node-group rules read both shapes; and the
Python policy SDK unwraps secret values before a validator sees them, so "is this Helm value a
secret" is read from the resource's ``additionalSecretOutputs`` option, which the SDK keeps.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

ANYWHERE = ("0.0.0.0/0", "::/0")
CONTROL_PLANE_LOG_TYPES = ("api", "audit", "authenticator", "controllerManager", "scheduler")
# Submariner's gateway ports (IKE, NAT-T, its NAT discovery) and ESP; components/planning/submariner.py owns
# the real list, and a test keeps the two equal.
SUBMARINER_GATEWAY_UDP_PORTS = frozenset({500, 4490, 4500})
ESP_PROTOCOL = "50"
EDGE_LISTENER_SUFFIX = "-edge-nlb-listener"
SUBMARINER_GATEWAY_LABEL = "submariner.io/gateway"
ARGOCD_SECRET_TYPE_LABEL = "argocd.argoproj.io/secret-type"
DEFAULT_PROTECTED_STACKS = ("mgmt", "prod")
# components/cluster.RETIRING_TAG: a cluster being removed on purpose (fleet:clusters[i].retiring).
RETIRING_TAG = "fleet-retiring"

EKS_CLUSTER_TYPES = ("eks:index:Cluster", "aws:eks/cluster:Cluster")
NODE_GROUP_TYPES = ("eks:index:ManagedNodeGroup", "aws:eks/nodeGroup:NodeGroup")
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
INSTANCE = "aws:ec2/instance:Instance"
KMS_KEY = "aws:kms/key:Key"
SUBNET = "aws:ec2/subnet:Subnet"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
LEGACY_SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
K8S_SECRET = "kubernetes:core/v1:Secret"
HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
DNS_RECORD = "aws:route53/record:Record"
VPC = "aws:ec2/vpc:Vpc"
FLOW_LOG = "aws:ec2/flowLog:FlowLog"
EGRESS_RULE = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"

# Key names whose string values are credentials; names ending in a reference suffix point at a
# secret elsewhere (existingSecret, passwordSecretRef, tokenFile) and are fine in plain values.
_SENSITIVE_KEY = re.compile(r"(password|passwd|psk|token|privatekey|apikey|clientsecret|secretkey|^secret$)", re.IGNORECASE)
_REFERENCE_KEY = re.compile(r"(name|ref|file|path|existingsecret|enabled|length)$", re.IGNORECASE)
_SENSITIVE_TEXT = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----|^eyJ[\w-]+\.[\w-]+\.[\w-]+$")


@dataclass(frozen=True)
class Resource:
    """One resource as a policy sees it: inputs and the options that matter to the guardrails."""

    urn: str
    type: str
    name: str
    props: Mapping[str, Any]
    protect: bool = False
    additional_secret_outputs: tuple[str, ...] = ()
    property_dependencies: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    parent: str = ""

    @property
    def stack(self) -> str:
        # urn:pulumi:<stack>::<project>::<type chain>::<name>
        return self.urn.split("::", 1)[0].rsplit(":", 1)[-1]


@dataclass(frozen=True)
class Context:
    """What a validator may consult beyond the resource: the stack's resources by URN and policy config."""

    resources: Mapping[str, Resource] = field(default_factory=dict)
    config: Mapping[str, Any] = field(default_factory=dict)


Check = Callable[[Resource, Context], list[str]]


@dataclass(frozen=True)
class Guardrail:
    """A named rule: which resource types it reads, and the check that returns its violations."""

    name: str
    description: str
    resource_types: tuple[str, ...]
    check: Check
    # Rules that read other resources (a node group's subnets) run as stack policies.
    needs_stack: bool = False
    config_schema: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def settings(self, config: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """This guardrail's config: the schema's defaults overlaid by what the pack was given."""
        return {key: (config or {}).get(key, spec["default"]) for key, spec in self.config_schema.items()}

    def violations(self, resource: Resource, context: Context | None = None) -> list[str]:
        if resource.type not in self.resource_types:
            return []
        return self.check(resource, context or Context())


# ---------------------------------------------------------------- helpers


def _get(props: Mapping[str, Any], *path: str) -> Any:
    value: Any = props
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def _is_eks_component(resource: Resource) -> bool:
    return resource.type.startswith("eks:index:")


# An allow list that admits more addresses than a /8 (16.7 million) admits the internet in all but
# name: 0.0.0.0/1 plus 128.0.0.0/1 is 0.0.0.0/0 written twice. Counted over the union, so splitting
# a wide range into pieces changes nothing.
MAX_ALLOWED_ADDRESSES = 2**24


def _opens_to_anywhere(cidrs: Iterable[Any]) -> list[str]:
    open_cidrs = []
    networks: list[ipaddress.IPv4Network] = []
    for cidr in cidrs:
        try:
            network = ipaddress.ip_network(str(cidr), strict=False)
        except ValueError:
            continue
        if network.prefixlen == 0:
            open_cidrs.append(str(cidr))
        elif isinstance(network, ipaddress.IPv4Network):
            networks.append(network)
    covered = sum(n.num_addresses for n in ipaddress.collapse_addresses(networks))
    if not open_cidrs and covered > MAX_ALLOWED_ADDRESSES:
        wide = ", ".join(str(n) for n in sorted(networks, key=lambda n: n.prefixlen)[:4])
        open_cidrs.append(f"{covered:,} addresses ({wide}...), more than a /8: the internet in all but name")
    return open_cidrs


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


# ---------------------------------------------------------------- EKS control plane


def _secrets_encryption(resource: Resource, _: Context) -> list[str]:
    if _is_eks_component(resource):
        if not resource.props.get("encryptionConfigKeyArn"):
            return [f"EKS cluster {resource.name}: Kubernetes Secrets must be envelope-encrypted (set encryptionConfigKeyArn)."]
        return []
    config = resource.props.get("encryptionConfig") or {}
    if "secrets" not in _as_list(config.get("resources")) or not _get(config, "provider", "keyArn"):
        return [f"EKS cluster {resource.name}: encryptionConfig must cover 'secrets' with a KMS key."]
    return []


def _control_plane_logs(resource: Resource, _: Context) -> list[str]:
    enabled = set(_as_list(resource.props.get("enabledClusterLogTypes")))
    missing = [log for log in CONTROL_PLANE_LOG_TYPES if log not in enabled]
    if missing:
        return [
            f"EKS cluster {resource.name}: control-plane log types {', '.join(missing)} are not enabled (all five are required)."
        ]
    return []


def _endpoint_not_open(resource: Resource, _: Context) -> list[str]:
    props = resource.props if _is_eks_component(resource) else (resource.props.get("vpcConfig") or {})
    public = props.get("endpointPublicAccess")
    if public is False:
        return []
    cidrs = _as_list(props.get("publicAccessCidrs"))
    if not cidrs:
        # EKS's default for a public endpoint with no allow list is 0.0.0.0/0.
        return [f"EKS cluster {resource.name}: public API endpoint has no publicAccessCidrs, which EKS opens to 0.0.0.0/0."]
    open_cidrs = _opens_to_anywhere(cidrs)
    if open_cidrs:
        return [f"EKS cluster {resource.name}: public API endpoint is open to {', '.join(open_cidrs)}."]
    return []


def _access_entries_only(resource: Resource, _: Context) -> list[str]:
    mode = (
        resource.props.get("authenticationMode")
        if _is_eks_component(resource)
        else _get(resource.props, "accessConfig", "authenticationMode")
    )
    problems = []
    if mode != "API":
        problems.append(
            f"EKS cluster {resource.name}: authenticationMode is {mode or 'unset'}; only access entries (API) are allowed."
        )
    if _is_eks_component(resource):
        for mapping in ("roleMappings", "userMappings", "instanceRoles"):
            if resource.props.get(mapping):
                problems.append(
                    f"EKS cluster {resource.name}: {mapping} writes the aws-auth ConfigMap; use access entries instead."
                )
    return problems


def _protected_in_prod(resource: Resource, context: Context) -> list[str]:
    stacks = context.config.get("stacks", DEFAULT_PROTECTED_STACKS)
    retiring = str((resource.props.get("tags") or {}).get(RETIRING_TAG, "")).lower() == "true"
    if resource.stack in stacks and not resource.protect and not retiring:
        return [
            f"EKS cluster {resource.name}: stack {resource.stack} requires protect: true on clusters "
            "(to remove one on purpose, set retiring: true on its entry first)."
        ]
    return []


# ---------------------------------------------------------------- nodes


def _is_gateway_group(resource: Resource) -> bool:
    return str((resource.props.get("labels") or {}).get(SUBMARINER_GATEWAY_LABEL, "")).lower() == "true"


def _is_public_subnet(subnet: Resource) -> bool:
    tags = subnet.props.get("tags") or {}
    return bool(subnet.props.get("mapPublicIpOnLaunch")) or str(tags.get("kubernetes.io/role/elb")) == "1"


def _subnets_of(node_group: Resource, context: Context) -> list[Resource]:
    urns = node_group.property_dependencies.get("subnetIds", ())
    subnets = [context.resources[urn] for urn in urns if urn in context.resources]
    if subnets:
        return subnets
    # A resource registered by a provider (pulumi-eks's own node group) may carry plain ids without dependencies.
    ids = {str(subnet_id) for subnet_id in _as_list(node_group.props.get("subnetIds"))}
    return [r for r in context.resources.values() if r.type == SUBNET and str(r.props.get("id")) in ids]


def _nodes_in_private_subnets(resource: Resource, context: Context) -> list[str]:
    subnets = _subnets_of(resource, context)
    if not subnets:
        parent = context.resources.get(resource.parent)
        if parent is not None and parent.type in NODE_GROUP_TYPES:
            return []  # the component it belongs to is checked with its dependencies
        return [f"Node group {resource.name}: its subnets are not resources of this stack, so their exposure cannot be checked."]
    public = sorted(s.name for s in subnets if _is_public_subnet(s))
    private = sorted(s.name for s in subnets if not _is_public_subnet(s))
    if _is_gateway_group(resource):
        if private:
            return [f"Node group {resource.name}: Submariner gateways need public subnets; {', '.join(private)} are private."]
        return []
    if public:
        return [f"Node group {resource.name}: nodes must run in private subnets; {', '.join(public)} are public."]
    return []


def _imds_v2(resource: Resource, _: Context) -> list[str]:
    if resource.type in NODE_GROUP_TYPES:
        if not resource.props.get("launchTemplate"):
            # EKS's default launch template leaves IMDSv1 on and the hop limit at 2.
            return [f"Node group {resource.name}: needs a launch template that requires IMDSv2."]
        return []
    tokens = _get(resource.props, "metadataOptions", "httpTokens")
    if tokens != "required":
        return [f"{resource.name}: metadataOptions.httpTokens is {tokens or 'unset'}; IMDSv2 (required) is mandatory."]
    return []


def _kms_rotation(resource: Resource, _: Context) -> list[str]:
    spec = resource.props.get("customerMasterKeySpec") or resource.props.get("keySpec") or "SYMMETRIC_DEFAULT"
    if spec == "SYMMETRIC_DEFAULT" and resource.props.get("enableKeyRotation") is not True:
        return [f"KMS key {resource.name}: enableKeyRotation must be true."]
    return []


# ---------------------------------------------------------------- security groups


def _allowed_open_ingress(name: str, protocol: str, from_port: Any, to_port: Any) -> bool:
    if name.endswith(EDGE_LISTENER_SUFFIX) and protocol == "tcp":
        return True
    if "-submariner-gateway-" in name:
        if protocol == ESP_PROTOCOL:
            return True
        if protocol == "udp" and from_port == to_port and from_port in SUBMARINER_GATEWAY_UDP_PORTS:
            return True
    return False


def _open_ingress_message(name: str, cidrs: Sequence[str]) -> str:
    return (
        f"Security group ingress {name} is open to {', '.join(cidrs)}; only the edge NLB listeners "
        f"(*{EDGE_LISTENER_SUFFIX}) and Submariner gateway ports may be."
    )


def _protocol(value: Any) -> str:
    text = str(value).lower()
    return {"6": "tcp", "17": "udp", "esp": ESP_PROTOCOL}.get(text, text)


def _no_open_ingress(resource: Resource, _: Context) -> list[str]:
    props = resource.props
    if resource.type == INGRESS_RULE:
        rules = [(resource.name, props, [props.get("cidrIpv4"), props.get("cidrIpv6")], "ipProtocol")]
    elif resource.type == LEGACY_SG_RULE:
        if props.get("type") != "ingress":
            return []
        rules = [(resource.name, props, _as_list(props.get("cidrBlocks")) + _as_list(props.get("ipv6CidrBlocks")), "protocol")]
    else:
        rules = [
            (
                f"{resource.name}.ingress[{i}]",
                rule,
                _as_list(rule.get("cidrBlocks")) + _as_list(rule.get("ipv6CidrBlocks")),
                "protocol",
            )
            for i, rule in enumerate(_as_list(props.get("ingress")))
        ]
    problems = []
    for name, rule, cidrs, protocol_key in rules:
        open_cidrs = _opens_to_anywhere(c for c in cidrs if c)
        protocol = _protocol(rule.get(protocol_key))
        if open_cidrs and not _allowed_open_ingress(resource.name, protocol, rule.get("fromPort"), rule.get("toPort")):
            problems.append(_open_ingress_message(name, open_cidrs))
    return problems


# ---------------------------------------------------------------- Kubernetes secrets and Helm values


def _argocd_cluster_config(props: Mapping[str, Any]) -> Any:
    config = _get(props, "stringData", "config")
    if config is None:
        encoded = _get(props, "data", "config")
        if encoded is None:
            return None
        try:
            config = base64.b64decode(str(encoded)).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
    try:
        return json.loads(config) if isinstance(config, str) else config
    except json.JSONDecodeError:
        return None


def _argocd_no_bearer_token(resource: Resource, _: Context) -> list[str]:
    labels = _get(resource.props, "metadata", "labels") or {}
    if labels.get(ARGOCD_SECRET_TYPE_LABEL) != "cluster":
        return []
    config = _argocd_cluster_config(resource.props)
    if not isinstance(config, Mapping):
        return [f"Argo CD cluster Secret {resource.name}: its config is not readable JSON, so it cannot be checked."]
    problems = []
    if config.get("bearerToken"):
        problems.append(
            f"Argo CD cluster Secret {resource.name}: carries a bearerToken; "
            "use awsAuthConfig (an IAM role) so no long-lived token exists."
        )
    if _get(config, "tlsClientConfig", "insecure") is True:
        problems.append(f"Argo CD cluster Secret {resource.name}: tlsClientConfig.insecure skips API server verification.")
    return problems


def _sensitive_paths(value: Any, path: str = "") -> Iterator[str]:
    if isinstance(value, Mapping):
        for key, child in value.items():
            child_path = f"{path}.{key}" if path else str(key)
            if isinstance(child, str) and child and _SENSITIVE_KEY.search(str(key)) and not _REFERENCE_KEY.search(str(key)):
                yield child_path
            else:
                yield from _sensitive_paths(child, child_path)
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _sensitive_paths(child, f"{path}[{index}]")
    elif isinstance(value, str) and _SENSITIVE_TEXT.search(value):
        yield path


def _helm_values_not_plaintext(resource: Resource, _: Context) -> list[str]:
    paths = sorted(set(_sensitive_paths(resource.props.get("values") or {})))
    if paths and "values" not in resource.additional_secret_outputs:
        return [
            f"Helm release {resource.name}: values carry credentials ({', '.join(paths)}) but are not secret; "
            "pass them as a Pulumi secret and list 'values' in additionalSecretOutputs."
        ]
    return []


# ---------------------------------------------------------------- node groups and autoscaling

ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
_AUTOSCALING_WRITES = ("autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup", "autoscaling:*")


def _gpu_groups_tainted(resource: Resource, _: Context) -> list[str]:
    if "NVIDIA" not in str(resource.props.get("amiType") or ""):
        return []
    taints = resource.props.get("taints") or []
    if any(t.get("key") == "nvidia.com/gpu" and t.get("effect") in ("NO_SCHEDULE", "NoSchedule") for t in taints):
        return []
    return [f"Node group {resource.name}: GPU nodes need the taint nvidia.com/gpu:NoSchedule, or any pod lands on them."]


def _autoscaler_scoped(resource: Resource, _: Context) -> list[str]:
    try:
        document = json.loads(str(resource.props.get("policy") or "{}"))
    except json.JSONDecodeError:
        return []
    problems = []
    for statement in document.get("Statement") or []:
        actions = _as_list(statement.get("Action"))
        if statement.get("Effect") != "Allow" or not any(a in _AUTOSCALING_WRITES for a in actions):
            continue
        conditions = json.dumps(statement.get("Condition") or {})
        if statement.get("Resource") in ("*", ["*"]) and "aws:ResourceTag/k8s.io/cluster-autoscaler/" not in conditions:
            problems.append(
                f"IAM policy {resource.name}: autoscaling writes on every Auto Scaling group; limit them to the "
                "cluster's own (Condition aws:ResourceTag/k8s.io/cluster-autoscaler/<cluster>: owned)."
            )
    return problems


# ---------------------------------------------------------------- network audit


def _vpc_flow_logs(resource: Resource, context: Context) -> list[str]:
    for other in context.resources.values():
        if other.type == FLOW_LOG and resource.urn in other.property_dependencies.get("vpcId", ()):
            return []
    return [f"VPC {resource.name}: no flow log records its traffic."]


def _rule_described(resource: Resource, _: Context) -> list[str]:
    if len(str(resource.props.get("description") or "").strip()) < 10:
        return [f"Security group rule {resource.name}: its description must say why it exists."]
    return []


def _explicit_upgrade_policy(resource: Resource, _: Context) -> list[str]:
    support = _get(resource.props, "upgradePolicy", "supportType")
    if support not in ("STANDARD", "EXTENDED"):
        # The EKS API defaults to EXTENDED: billed extended support once a version leaves standard support.
        return [f"EKS cluster {resource.name}: upgradePolicy.supportType must be set (the API default is billed EXTENDED)."]
    return []


# ---------------------------------------------------------------- DNS


# Every routing policy's Route53 argument (tests/test_policy.py keeps this equal to the program's
# table in components/resources/dns.py, which this pack's own virtualenv cannot import).
ROUTING_ARGUMENTS = ("weightedRoutingPolicies", "failoverRoutingPolicies", "latencyRoutingPolicies", "geolocationRoutingPolicies")


def _health_checked_records(resource: Resource, _: Context) -> list[str]:
    # A routed record without a check is always answered: Route53 keeps sending traffic to a dead region.
    routed = [argument for argument in ROUTING_ARGUMENTS if resource.props.get(argument)]
    if routed and not resource.props.get("healthCheckId"):
        kind = routed[0].removesuffix("RoutingPolicies")
        return [
            f"Route53 record {resource.name}: a {kind} record needs a healthCheckId, or traffic keeps flowing to a dead region."
        ]
    return []


GUARDRAILS: tuple[Guardrail, ...] = (
    Guardrail(
        "eks-secrets-encryption",
        "EKS clusters envelope-encrypt Kubernetes Secrets with KMS.",
        EKS_CLUSTER_TYPES,
        _secrets_encryption,
    ),
    Guardrail(
        "eks-control-plane-logs", "EKS clusters send all five control-plane log types.", EKS_CLUSTER_TYPES, _control_plane_logs
    ),
    Guardrail(
        "eks-endpoint-not-open",
        "No EKS public API endpoint is open to 0.0.0.0/0, or to more than a /8 in all.",
        EKS_CLUSTER_TYPES,
        _endpoint_not_open,
    ),
    Guardrail(
        "eks-access-entries-only",
        "EKS access is granted by access entries only (authenticationMode API).",
        EKS_CLUSTER_TYPES,
        _access_entries_only,
    ),
    Guardrail(
        "nodes-in-private-subnets",
        "Nodes run in private subnets; only Submariner gateway node groups sit in public ones.",
        NODE_GROUP_TYPES,
        _nodes_in_private_subnets,
        needs_stack=True,
    ),
    Guardrail(
        "nodes-imdsv2",
        "Nodes and instances require IMDSv2 through their launch template.",
        (*NODE_GROUP_TYPES, LAUNCH_TEMPLATE, INSTANCE),
        _imds_v2,
    ),
    Guardrail("kms-key-rotation", "Symmetric KMS keys rotate yearly.", (KMS_KEY,), _kms_rotation),
    Guardrail(
        "no-open-ingress",
        "No security-group ingress from anywhere except the edge NLB listeners and Submariner gateway ports.",
        (INGRESS_RULE, LEGACY_SG_RULE, SECURITY_GROUP),
        _no_open_ingress,
    ),
    Guardrail(
        "argocd-cluster-secret-no-bearer-token",
        "Argo CD cluster Secrets authenticate by IAM, never a bearer token.",
        (K8S_SECRET,),
        _argocd_no_bearer_token,
    ),
    Guardrail(
        "helm-values-no-plaintext-secrets",
        "Credentials in Helm values are Pulumi secrets.",
        (HELM_RELEASE,),
        _helm_values_not_plaintext,
    ),
    Guardrail(
        "eks-upgrade-policy-explicit",
        "EKS clusters choose their support type explicitly instead of the billed EXTENDED default.",
        EKS_CLUSTER_TYPES,
        _explicit_upgrade_policy,
    ),
    Guardrail(
        "gpu-node-groups-tainted",
        "GPU node groups carry the nvidia.com/gpu NoSchedule taint.",
        NODE_GROUP_TYPES,
        _gpu_groups_tainted,
    ),
    Guardrail(
        "autoscaler-iam-scoped",
        "Autoscaling write permissions are limited to the cluster's own Auto Scaling groups.",
        (ROLE_POLICY,),
        _autoscaler_scoped,
    ),
    Guardrail("vpc-flow-logs", "Every VPC has a flow log.", (VPC,), _vpc_flow_logs, needs_stack=True),
    Guardrail(
        "security-group-rules-described",
        "Every security group rule says why it exists.",
        (INGRESS_RULE, EGRESS_RULE),
        _rule_described,
    ),
    Guardrail(
        "dns-routing-health-checks",
        "Every routed Route53 record (weighted, failover, latency, geolocation) has a health check.",
        (DNS_RECORD,),
        _health_checked_records,
    ),
    Guardrail(
        "prod-clusters-protected",
        "Clusters in production stacks are protected from deletion.",
        EKS_CLUSTER_TYPES,
        _protected_in_prod,
        config_schema={"stacks": {"type": "array", "items": {"type": "string"}, "default": list(DEFAULT_PROTECTED_STACKS)}},
    ),
)


def evaluate(resources: Iterable[Resource], config: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, list[str]]:
    """Every guardrail over every resource: violation messages by guardrail name (empty lists when clean)."""
    index = {resource.urn: resource for resource in resources}
    results: dict[str, list[str]] = {}
    for guardrail in GUARDRAILS:
        context = Context(index, guardrail.settings((config or {}).get(guardrail.name)))
        results[guardrail.name] = [message for resource in index.values() for message in guardrail.violations(resource, context)]
    return results
