"""vCPU and memory of EC2 instance types, as EC2's DescribeInstanceTypes gives them.

Source: ``data/ec2_instance_types.json`` (type -> [DefaultVCpus, MemoryInfo.SizeInMiB]), copied by
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
