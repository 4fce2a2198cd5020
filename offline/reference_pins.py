"""sha256 of each pinned chart's archive, kept in the repository: a fetched chart must match it, so
a repository (or whoever controls its index) cannot swap the sources the tests check against.

Each value is the ``digest`` its Helm repository's ``index.yaml`` published for that version,
read from the repository's gh-pages branch (the file ``helm repo add`` downloads).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ArchivePin:
    sha256: str
    source: str


ARCHIVE_SHA256: dict[tuple[str, str], ArchivePin] = {
    ("argo-cd", "10.1.1"): ArchivePin(
        "a677dfa6ca7e9f9a71fe9bf54ea86a9011d5c7db8e137c5171e78c4493af20e5", "argoproj/argo-helm gh-pages index.yaml"
    ),
    ("aws-load-balancer-controller", "1.17.0"): ArchivePin(
        "10306157bdb76a1b778a57832ef75ebf42008a2bcaea09dc99c4d17384cad3fd", "aws/eks-charts gh-pages index.yaml"
    ),
    ("cluster-autoscaler", "9.59.0"): ArchivePin(
        "90276dafe65cf5d4328ef8313baf6cfb9d130683e0c9f3c28a03b4d8a9ed8f6e", "kubernetes/autoscaler gh-pages index.yaml"
    ),
    ("nvidia-device-plugin", "0.20.0"): ArchivePin(
        "9e5642bcdd3805c6e931f9d3ca542677d1f714d68c14c1364892011e67d9a606", "NVIDIA/k8s-device-plugin gh-pages index.yaml"
    ),
}

# Charts whose archive digest could not be read where this table was written: fetched against the
# repository index's digest alone, and reported as unpinned.
UNPINNED: dict[tuple[str, str], str] = {
    ("submariner-operator", "0.24.1"): "the submariner-charts index at hand (gh-pages, 2024-10-18) predates 0.24.1",
    ("submariner-k8s-broker", "0.24.1"): "the submariner-charts index at hand (gh-pages, 2024-10-18) predates 0.24.1",
}
