import pytest

from components.instance_types import AmiType, ami_type_for


@pytest.mark.parametrize(
    ("instance_type", "ami_type"),
    [
        ("m7g.large", AmiType.ARM_64),
        ("c7gn.xlarge", AmiType.ARM_64),
        ("r8gd.2xlarge", AmiType.ARM_64),
        ("t4g.medium", AmiType.ARM_64),
        ("im4gn.large", AmiType.ARM_64),
        ("a1.large", AmiType.ARM_64),
        ("m7i.xlarge", AmiType.X86_64),
        ("m7i-flex.large", AmiType.X86_64),
        ("c6a.large", AmiType.X86_64),
        ("g5.xlarge", AmiType.X86_64_NVIDIA),
        ("g6e.2xlarge", AmiType.X86_64_NVIDIA),
        ("g4dn.xlarge", AmiType.X86_64_NVIDIA),
        ("p5.48xlarge", AmiType.X86_64_NVIDIA),
        ("gr6.4xlarge", AmiType.X86_64_NVIDIA),
        ("g5g.xlarge", AmiType.ARM_64_NVIDIA),
        ("inf2.xlarge", AmiType.X86_64_NEURON),
        ("trn1.2xlarge", AmiType.X86_64_NEURON),
    ],
)
def test_ami_type_follows_the_instance_family(instance_type: str, ami_type: AmiType) -> None:
    assert ami_type_for(instance_type) is ami_type


def test_gpu_ami_types() -> None:
    assert {t for t in AmiType if t.is_gpu} == {AmiType.X86_64_NVIDIA, AmiType.ARM_64_NVIDIA}


def test_rejects_non_instance_types() -> None:
    with pytest.raises(ValueError, match="not an EC2 instance type"):
        ami_type_for("large")
