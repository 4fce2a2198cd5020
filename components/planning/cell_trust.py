"""What a cell accepts from the other cells of its environment (planning/cells.py), checked against
its own config before any resource is registered: trust.py's rules, for the values cells exchange.

Another cell's stack is written by whoever can deploy or edit that stack; one cell held must not
widen what the others admit or whom they trust:

- No address is taken from another cell's outputs: the ones the broker admits to its API endpoint and
  every peer to its tunnel ports are the Elastic IPs EC2 lists in this account under the member's tags
  (resources/cell_reads.py).
- The broker's ``clustersetBroker``: the server is the broker cluster's endpoint exactly as EKS
  describes it in this account (DescribeCluster), the CA that cluster's own, a token shaped as a
  ServiceAccount token, and a pre-shared key of the length the broker's cell generates. A forged
  server or CA would hand this cell's broker token and tunnels to someone else.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from typing import Any

from .cells import BROKER_OUTPUT, cell_stack
from .submariner import broker_server

GENERATED_PSK_LENGTH = 64
"""64 alphanumerics (about 380 bits): what the broker's cell generates (resources/fleet.py)."""
_PSK_RE = re.compile(r"^[A-Za-z0-9]+$")
# A JWT: three base64url segments (RFC 7519 section 3); a ServiceAccount token is one.
_JWT_RE = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")


def _pem(data: Any) -> str | None:
    """The PEM a base64 CA field holds, whitespace-normalized, or None when it does not decode."""
    if not isinstance(data, str):
        return None
    try:
        return " ".join(base64.b64decode(data, validate=True).decode().split())
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None


def broker_output_problems(
    environment: str, broker: str, member: str, exported: Any, described: Mapping[str, Any] | None
) -> list[str]:
    """The broker cell's ``clustersetBroker`` as the member ``member`` reads it; ``described`` is the
    broker cluster as EKS describes it (endpoint, ca), None when EKS does not know it."""
    where = f"stack {cell_stack(environment, broker)} output {BROKER_OUTPUT}"
    if not isinstance(exported, Mapping):
        return [f"{where}: {'(secret)' if exported is not None else None} is not a mapping: refused"]
    problems: list[str] = []
    if exported.get("cluster") != broker:
        problems.append(f"{where}.cluster: {exported.get('cluster')!r}, not the broker {broker!r}: refused")
    if described is None:
        return [*problems, f"{where}: EKS knows no cluster {broker} in this account, to check the broker's server by: refused"]
    server = exported.get("server")
    expected = broker_server(str(described.get("endpoint") or ""))
    if server != expected:
        problems.append(f"{where}.server: {server!r} is not the broker's endpoint as EKS describes it ({expected}): refused")
    psk = exported.get("psk")
    if not isinstance(psk, str) or len(psk) != GENERATED_PSK_LENGTH or not _PSK_RE.match(psk):
        problems.append(f"{where}.psk: not the {GENERATED_PSK_LENGTH} alphanumerics the broker's cell generates: refused")
    credential = (exported.get("credentials") or {}).get(member) if isinstance(exported.get("credentials"), Mapping) else None
    if not isinstance(credential, Mapping):
        return [*problems, f"{where}.credentials.{member}: missing: the broker issues one token per member; refused"]
    token = credential.get("token")
    if not isinstance(token, str) or not _JWT_RE.match(token):
        problems.append(f"{where}.credentials.{member}.token: not a ServiceAccount token (a JWT): refused")
    ca, described_ca = _pem(credential.get("ca")), _pem(described.get("ca"))
    if ca is None or ca != described_ca:
        problems.append(f"{where}.credentials.{member}.ca: not the broker cluster's CA as EKS describes it: refused")
    return problems
