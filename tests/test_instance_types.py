import pytest

from components.aws.instance_types import AmiType, ami_type_for, instance_type_error


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
        # Current naming forms: an option after a hyphen, metal sizes with a suffix, no generation.
        ("p6-b200.48xlarge", AmiType.X86_64_NVIDIA),
        ("p6e-gb200.36xlarge", AmiType.ARM_64_NVIDIA),
        ("p5en.48xlarge", AmiType.X86_64_NVIDIA),
        ("g6f.large", AmiType.X86_64_NVIDIA),
        ("trn2.48xlarge", AmiType.X86_64_NEURON),
        ("trn1n.32xlarge", AmiType.X86_64_NEURON),
        ("u7i-12tb.224xlarge", AmiType.X86_64),
        ("u-6tb1.metal", AmiType.X86_64),
        ("m7i.metal-24xl", AmiType.X86_64),
        ("c7i-flex.large", AmiType.X86_64),
        ("r7iz.large", AmiType.X86_64),
        ("x2iedn.xlarge", AmiType.X86_64),
        ("is4gen.large", AmiType.ARM_64),
        ("hpc7g.16xlarge", AmiType.ARM_64),
        ("m8g.metal-48xl", AmiType.ARM_64),
        ("i8ge.large", AmiType.ARM_64),
    ],
)
def test_ami_type_follows_the_instance_family(instance_type: str, ami_type: AmiType) -> None:
    assert ami_type_for(instance_type) is ami_type


def test_gpu_ami_types() -> None:
    assert {t for t in AmiType if t.is_gpu} == {AmiType.X86_64_NVIDIA, AmiType.ARM_64_NVIDIA}


def test_rejects_non_instance_types() -> None:
    with pytest.raises(ValueError, match="not an EC2 instance type"):
        ami_type_for("large")


@pytest.mark.parametrize(
    ("instance_type", "reason"),
    [
        # g4ad has AMD Radeon GPUs: the NVIDIA image would boot with no usable GPU.
        ("g4ad.xlarge", "AMD GPUs"),
        ("dl1.24xlarge", "Habana Gaudi"),
        ("dl2q.24xlarge", "Qualcomm"),
        ("f2.12xlarge", "FPGAs"),
        ("vt1.3xlarge", "video transcoders"),
        ("mac2-m2pro.metal", "macOS"),
    ],
)
def test_refuses_what_eks_has_no_image_for(instance_type: str, reason: str) -> None:
    assert reason in (instance_type_error(instance_type) or "")
    with pytest.raises(ValueError, match=reason):
        ami_type_for(instance_type)


def test_a_node_group_of_amd_gpus_is_a_config_error_naming_the_path() -> None:
    from components.config.errors import ConfigError
    from components.planning.checks import load_fleet
    from offline.harness import stack_config

    raw = {k.removeprefix("fleet:"): v for k, v in stack_config("fleet").items()}
    raw["clusters"][1]["nodeGroups"][2]["instanceTypes"] = ["g4ad.xlarge"]
    expected = r"fleet:clusters\[1\]\.nodeGroups\[2\]\.instanceTypes\[0\]: 'g4ad.xlarge' has AMD GPUs"
    with pytest.raises(ConfigError, match=expected):
        load_fleet(raw)
