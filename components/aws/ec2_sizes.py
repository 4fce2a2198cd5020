"""vCPU and memory of EC2 instance types, as EC2's DescribeInstanceTypes gives them.

Source: ``data/ec2_instance_types.json`` (type -> [DefaultVCpus, MemoryInfo.SizeInMiB, the default
network card's MaximumNetworkInterfaces, Ipv4AddressesPerInterface]), copied by
``python -m offline.ec2_data --update`` from the DescribeInstanceTypes answers moto ships (moto
5.2.6, released 2026-11-23; moto records no date of its crawl). A type EC2 does not list there
(newer than the copy, or misspelt) has an unknown size: the capacity and quota checks say so.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

INSTANCE_TYPES_FILE = Path(__file__).parent / "data" / "ec2_instance_types.json"


@cache
def _sizes() -> dict[str, list[int]]:
    return dict(json.loads(INSTANCE_TYPES_FILE.read_text()))


def known(instance_type: str) -> bool:
    return instance_type in _sizes()


def vcpus(instance_type: str) -> int | None:
    size = _sizes().get(instance_type)
    return size[0] if size else None


def memory_gib(instance_type: str) -> float | None:
    size = _sizes().get(instance_type)
    return size[1] / 1024 if size else None


def max_pods(instance_type: str) -> int | None:
    """Pods the EKS AMI lets a node run without prefix delegation: ENIs on the default network card x
    (IPv4 addresses per ENI - 1) + 2 (awslabs/amazon-eks-ami nodeadm ``CalcMaxPods``, "aligned with AL2";
    its eni-max-pods.txt holds the same values, e.g. m7i.xlarge 58)."""
    size = _sizes().get(instance_type)
    return size[2] * (size[3] - 1) + 2 if size and size[2] and size[3] else None


def allocatable(instance_type: str) -> tuple[float, float] | None:
    """(vCPU, GiB) the kubelet of an EKS AL2023 node offers pods: capacity less kube-reserved (CPU: 6% of
    the first core, 1% of the second, 0.5% of the third and fourth, 0.25% of the rest; memory:
    11 MiB x max pods + 255 MiB: awslabs/amazon-eks-ami nodeadm/internal/kubelet/config.go,
    getCPUMillicoresToReserve and getMemoryMebibytesToReserve) and the kubelet's hard eviction
    threshold (memory.available 100Mi, the kubelet default)."""
    size = _sizes().get(instance_type)
    pods = max_pods(instance_type)
    if size is None or pods is None:
        return None
    millicores = size[0] * 1000
    reserved = 0.0
    for start, end, per_ten_thousand in ((0, 1000, 600), (1000, 2000, 100), (2000, 4000, 50), (4000, millicores, 25)):
        if millicores > start:
            reserved += (min(millicores, end) - start) * per_ten_thousand / 10000
    memory_mib = size[1] - (11 * pods + 255) - 100
    return (millicores - reserved) / 1000, memory_mib / 1024
