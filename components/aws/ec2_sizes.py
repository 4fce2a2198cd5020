"""vCPU and memory of EC2 instance types, from their names, for the families whose ratio is fixed.

Sources: the Amazon EC2 instance type specifications ("General purpose", "Compute optimized",
"Memory optimized", "Accelerated computing"): sizes double from ``large`` (2 vCPU) through
``xlarge`` (4) and ``<n>xlarge`` (4n); memory per vCPU is 2 GiB for the C families, 4 GiB for M
(and the G5/G6 GPU families up to 8xlarge), 8 GiB for R. Other families (burstable T, storage,
HPC, ``metal`` sizes) have no fixed ratio here, so capacity for them is unknown, never guessed.
"""

from __future__ import annotations

import re

_SIZE = re.compile(r"^(?:(?P<n>\d+)?xlarge|(?P<large>large)|(?P<medium>medium))$")
GIB_PER_VCPU = {"c": 2.0, "m": 4.0, "r": 8.0, "g": 4.0}


def vcpus(instance_type: str) -> int | None:
    size = instance_type.rsplit(".", 1)[-1]
    match = _SIZE.match(size)
    if match is None:
        return None
    if match["medium"]:
        return 1
    if match["large"]:
        return 2
    return 4 * int(match["n"] or 1)


def memory_gib(instance_type: str) -> float | None:
    family = re.match(r"^[a-z]+", instance_type)
    count = vcpus(instance_type)
    ratio = GIB_PER_VCPU.get(family.group(0)) if family else None
    if count is None or ratio is None:
        return None
    if family is not None and family.group(0) == "g" and count > 32:
        return None  # the largest G sizes break the 4 GiB ratio
    return count * ratio
