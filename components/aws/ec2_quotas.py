"""EC2's vCPU quotas: which quota an instance type counts against, its Service Quotas code and AWS's default.

Source: the EC2 documentation, "Amazon EC2 instance type quotas"
(docs.aws.amazon.com/ec2/latest/instancetypes/ec2-instance-quotas.html), and the EC2 user guide's
"On-Demand Instance quotas" and "Spot Instance quotas": quotas are per account and region and count
the vCPUs of running instances (and of unused Capacity Reservations; Spot quotas also count open
requests). AWS's defaults are 5 vCPU for the Standard classes and 0 for every other, On-Demand and
Spot (cross-checked with ListAWSDefaultServiceQuotas output in gruntwork-io/terraform-aws-utilities
docs/quotas.md). AWS raises an account's values with its use, so an account's applied value is read
with `aws service-quotas get-service-quota`, and declared in fleet:quotas; codes are matched, never
names, which AWS has renamed (the P Spot quota was "All P Spot Instance Requests").
A launch past a quota fails with VcpuLimitExceeded; the node group then stays short, without an error
in the deploy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

VcpuClass = Literal["Standard", "P", "P5", "G", "Inf", "Trn", "F", "X", "HighMem", "DL", "HPC"]
"""The quota classes; P5 is a class of its own for Spot only ("All P5 Spot Instance Requests")."""


@dataclass(frozen=True)
class VcpuQuota:
    on_demand: str
    """Service Quotas code of the running On-Demand instances quota."""
    spot: str | None
    """Code of the Spot requests quota; None where AWS has none (no Spot for HPC and High Memory)."""
    title: str
    default: int


VCPU_QUOTAS: dict[VcpuClass, VcpuQuota] = {
    "Standard": VcpuQuota("L-1216C47A", "L-34B43A08", "Standard (A, C, D, H, I, M, R, T, Z) instances", 5),
    "P": VcpuQuota("L-417A185B", "L-7212CCBC", "P instances", 0),
    # P5 Spot has its own quota; which Spot quota p5e/p5en and p6 count against is not documented
    # (third-party tables disagree): they are counted as P5 and P here, and the live value decides.
    "P5": VcpuQuota("L-417A185B", "L-C4BD4855", "P5 instances", 0),
    "G": VcpuQuota("L-DB2E81BA", "L-3819A6DF", "G and VT instances", 0),
    "Inf": VcpuQuota("L-1945791B", "L-B5D1601B", "Inf instances", 0),
    "Trn": VcpuQuota("L-2C3B7624", "L-6B0D517C", "Trn instances", 0),
    "F": VcpuQuota("L-74FC7D96", "L-88CF9481", "F instances", 0),
    "X": VcpuQuota("L-7295265B", "L-E3A00192", "X instances", 0),
    "HighMem": VcpuQuota("L-43DA4232", None, "High Memory instances", 0),
    "DL": VcpuQuota("L-6E869C2A", "L-85EED4F7", "DL instances", 0),
    "HPC": VcpuQuota("L-F7808C92", None, "HPC instances", 0),
}

# Longest prefixes first: inf before i, trn before t, dl before d, hpc before h, gr before g.
_PREFIXES: tuple[tuple[str, VcpuClass], ...] = (
    ("hpc", "HPC"),
    ("inf", "Inf"),
    ("trn", "Trn"),
    ("dl", "DL"),
    ("gr", "G"),
    ("vt", "G"),
    ("u-", "HighMem"),
    ("u7", "HighMem"),
    ("g", "G"),
    ("p", "P"),
    ("f", "F"),
    ("x", "X"),
    ("a", "Standard"),
    ("c", "Standard"),
    ("d", "Standard"),
    ("h", "Standard"),
    ("i", "Standard"),
    ("m", "Standard"),
    ("r", "Standard"),
    ("t", "Standard"),
    ("z", "Standard"),
)


def vcpu_class(instance_type: str, spot: bool = False) -> VcpuClass | None:
    """The quota class ``instance_type`` counts against; None for a type without a vCPU quota (mac
    runs on Dedicated Hosts, with host quotas). P5 Spot has its own quota; P5 On-Demand counts as P."""
    if instance_type.startswith("mac"):
        return None
    klass = next((klass for prefix, klass in _PREFIXES if instance_type.startswith(prefix)), None)
    if klass == "P" and spot and instance_type.startswith("p5"):
        return "P5"
    return klass


def quota_code(instance_type: str, spot: bool) -> str | None:
    klass = vcpu_class(instance_type, spot)
    if klass is None:
        return None
    quota = VCPU_QUOTAS[klass]
    return quota.spot if spot else quota.on_demand
