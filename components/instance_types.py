"""Which EKS AMI type an EC2 instance family needs (CPU architecture and accelerator)."""

from __future__ import annotations

import re
from enum import StrEnum

_INSTANCE_TYPE = re.compile(r"^(?P<family>[a-z]+)(?P<generation>\d+)(?P<attributes>[a-z-]*)\.(?P<size>[a-z0-9]+)$")

# GPU families with NVIDIA devices. g5g is Graviton with NVIDIA T4G, the others are x86.
_NVIDIA_FAMILIES = {"g", "gr", "p"}
_NEURON_FAMILIES = {"inf", "trn"}


class AmiType(StrEnum):
    """EKS managed node group AMI types this fleet uses (Amazon Linux 2023 only)."""

    X86_64 = "AL2023_x86_64_STANDARD"
    ARM_64 = "AL2023_ARM_64_STANDARD"
    X86_64_NVIDIA = "AL2023_x86_64_NVIDIA"
    ARM_64_NVIDIA = "AL2023_ARM_64_NVIDIA"
    X86_64_NEURON = "AL2023_x86_64_NEURON"

    @property
    def is_gpu(self) -> bool:
        return self in (AmiType.X86_64_NVIDIA, AmiType.ARM_64_NVIDIA)


def is_instance_type(name: str) -> bool:
    return bool(_INSTANCE_TYPE.match(name))


def ami_type_for(instance_type: str) -> AmiType:
    """The AMI type for one instance type, e.g. m7g.large -> ARM, g5.xlarge -> NVIDIA x86."""
    match = _INSTANCE_TYPE.match(instance_type)
    if not match:
        raise ValueError(f"{instance_type!r} is not an EC2 instance type (e.g. m7g.large)")
    family, attributes = match["family"], match["attributes"]
    # Graviton families carry a 'g' right after the generation (m7g, c7gn, r8gd, t4g, im4gn).
    graviton = attributes.startswith("g") or family in {"a"}
    if family in _NVIDIA_FAMILIES:
        return AmiType.ARM_64_NVIDIA if graviton else AmiType.X86_64_NVIDIA
    if family in _NEURON_FAMILIES:
        return AmiType.X86_64_NEURON
    return AmiType.ARM_64 if graviton else AmiType.X86_64
