"""Which EKS AMI type an EC2 instance type needs (CPU architecture and accelerator), from its name.

EC2 names are ``<family><generation><attributes>[-<option>].<size>`` (EC2 user guide, "Instance
type naming conventions"): m7g.large, c7i-flex.xlarge, p6-b200.48xlarge, u7i-12tb.224xlarge,
m7i.metal-24xl, and the older generation-less u-6tb1.metal. The accelerator comes from the family
(and for g4ad, its AMD attribute); Graviton (ARM) from a 'g' attribute right after the generation,
the a1 family, or a Grace ('gb') option. EKS ships AL2023 node images for plain x86 and ARM,
NVIDIA on both, and AWS Neuron on x86; for anything else it has no image, and saying so before
deploying beats a node group that never joins.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

_INSTANCE_TYPE = re.compile(
    r"^(?P<family>[a-z]+)(?P<generation>\d*)(?P<attributes>[a-z]*)(?:-(?P<option>[a-z0-9]+))?"
    r"\.(?P<size>[a-z0-9]+(?:-[a-z0-9]+)?)$"
)

_NVIDIA_FAMILIES = {"g", "gr", "p"}
_NEURON_FAMILIES = {"inf", "trn"}
# Families EKS has no AL2023 node image for, and what they carry.
_NO_EKS_IMAGE = {
    "dl": "Habana Gaudi or Qualcomm AI accelerators",
    "f": "FPGAs",
    "vt": "Xilinx video transcoders",
    "mac": "macOS hosts",
}


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

    @property
    def architecture(self) -> str:
        """The Kubernetes node architecture (kubernetes.io/arch) of its nodes: amd64 or arm64."""
        return "arm64" if "ARM_64" in self.value else "amd64"


@dataclass(frozen=True)
class InstanceType:
    family: str
    generation: str
    attributes: str
    option: str
    size: str

    @property
    def arm(self) -> bool:
        return self.attributes.startswith("g") or self.family == "a" or self.option.startswith("gb")

    @property
    def amd_gpu(self) -> bool:
        # g4ad: AMD EPYC ('a') with AMD Radeon Pro GPUs, unlike every other g family.
        return self.family == "g" and self.generation == "4" and self.attributes.startswith("a")


def parse(name: str) -> InstanceType | None:
    match = _INSTANCE_TYPE.match(name)
    if match is None:
        return None
    return InstanceType(match["family"], match["generation"], match["attributes"], match["option"] or "", match["size"])


def instance_type_error(name: str) -> str | None:
    """Why EKS cannot run ``name`` as a managed node, or None."""
    parsed = parse(name)
    if parsed is None:
        return f"{name!r} is not an EC2 instance type (e.g. m7g.large, p6-b200.48xlarge)"
    if parsed.amd_gpu:
        return f"{name!r} has AMD GPUs, and EKS has no AMD GPU node image; use an NVIDIA family (g5, g6, g6e, p5)"
    if parsed.family in _NO_EKS_IMAGE:
        return f"{name!r} carries {_NO_EKS_IMAGE[parsed.family]}, which no EKS node image supports"
    if parsed.family in _NEURON_FAMILIES and parsed.arm:
        return f"{name!r}: EKS's Neuron image is x86 only"
    return None


def is_instance_type(name: str) -> bool:
    return parse(name) is not None


def ami_type_for(instance_type: str) -> AmiType:
    """The AMI type for one instance type, e.g. m7g.large -> ARM, g5.xlarge -> NVIDIA x86, p6e-gb200 -> NVIDIA ARM."""
    if error := instance_type_error(instance_type):
        raise ValueError(error)
    parsed = parse(instance_type)
    assert parsed is not None  # checked by instance_type_error
    if parsed.family in _NVIDIA_FAMILIES:
        return AmiType.ARM_64_NVIDIA if parsed.arm else AmiType.X86_64_NVIDIA
    if parsed.family in _NEURON_FAMILIES:
        return AmiType.X86_64_NEURON
    return AmiType.ARM_64 if parsed.arm else AmiType.X86_64
