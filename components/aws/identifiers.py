"""What AWS's identifiers look like: the shapes a stack checks in another stack's outputs.

- EKS API server endpoint (IPv4 clusters, which this program builds): ``https://<32 upper-case
  hex>.<cell>.<region>.eks.amazonaws.com``, ``.eks.amazonaws.com.cn`` in the China partition (EKS
  user guide, private-clusters: ``https://EXAMPLE108C897D9B2F1B21D5EXAMPLE.sk1.region-code.eks.amazonaws.com``;
  real endpoints such as ``964C03D0934F8B3D97FBC6982BD906F4.gr7.us-west-2.eks.amazonaws.com`` and
  ``….yl4.cn-north-1.eks.amazonaws.com.cn``). The first label is unique per cluster; the cell label
  (gr7, yl4, sk1) is undocumented and treated as opaque; the region label is the cluster's own.
- An EKS token names its cluster (``x-k8s-aws-id``, signed into the presigned STS call), and the API
  server verifies it with its own name (kubernetes-sigs/aws-iam-authenticator ``pkg/token/token.go``):
  a token made for one cluster fails at another cluster's endpoint.
- EKS cluster ARN: ``arn:<partition>:eks:<region>:<account>:cluster/<name>`` (EKS service
  authorization reference, resource type ``cluster``).
- A cluster's ``certificateAuthority.data`` is a base64-encoded PEM certificate (DescribeCluster).
- VPC and VPC peering connection ids: ``vpc-``/``pcx-`` and 8 or 17 lower-case hex digits (EC2 API
  reference, "Resource IDs": longer IDs since 2016-2018).
- Account ids are 12 digits (AWS account management reference).
"""

from __future__ import annotations

import base64
import binascii
import re

_HEX_ID = r"[0-9a-f]{8}(?:[0-9a-f]{9})?"
VPC_ID = re.compile(rf"^vpc-{_HEX_ID}\Z")
PEERING_ID = re.compile(rf"^pcx-{_HEX_ID}\Z")
ACCOUNT_ID = re.compile(r"^\d{12}\Z")
PEM_CERTIFICATE = b"-----BEGIN CERTIFICATE-----"


def eks_endpoint_pattern(region: str) -> re.Pattern[str]:
    """The API server endpoints EKS gives clusters in ``region`` (and only there)."""
    suffix = r"\.eks\.amazonaws\.com\.cn" if region.startswith("cn-") else r"\.eks\.amazonaws\.com"
    return re.compile(rf"^https://[0-9A-F]{{32}}\.[a-z0-9]{{2,4}}\.{re.escape(region)}{suffix}\Z")


def eks_endpoint_host(endpoint: str) -> str:
    """The DNS name of an endpoint that matched eks_endpoint_pattern."""
    return endpoint.removeprefix("https://")


def eks_cluster_arn(partition: str, region: str, account: str, name: str) -> str:
    return f"arn:{partition}:eks:{region}:{account}:cluster/{name}"


def is_pem_certificate(data: str) -> bool:
    """Whether ``data`` is base64 of a PEM certificate, as EKS reports a cluster's CA."""
    try:
        decoded = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return False
    return decoded.lstrip().startswith(PEM_CERTIFICATE)
