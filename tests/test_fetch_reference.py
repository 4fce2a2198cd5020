"""python -m offline.fetch_reference against a Helm repository built here and served on loopback."""

from __future__ import annotations

import hashlib
import http.server
import io
import tarfile
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest
import yaml

from offline import charts
from offline.fetch_reference import FetchError, Pin, fetch, pins_of
from offline.reference_pins import ARCHIVE_SHA256, UNPINNED, ArchivePin
from tests.reference import PINNED


def test_the_pins_are_exactly_the_releases_of_the_reference_stacks() -> None:
    pins = pins_of()
    assert {(p.chart, p.version) for p in pins} == {
        PINNED["argo-cd"],
        PINNED["cluster-autoscaler"],
        PINNED["nvidia-device-plugin"],
        PINNED["aws-load-balancer-controller"],
        PINNED["submariner/submariner-operator"],
        PINNED["submariner/submariner-k8s-broker"],
    }
    assert {p.repository for p in pins} == {
        "https://argoproj.github.io/argo-helm",
        "https://aws.github.io/eks-charts",
        "https://kubernetes.github.io/autoscaler",
        "https://nvidia.github.io/k8s-device-plugin",
        "https://submariner-io.github.io/submariner-charts/charts",
    }


def _archive(source: Path, name: str, version: str) -> bytes:
    """A chart archive as `helm package` makes it: <name>/... with the version in Chart.yaml."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for path in sorted(source.rglob("*")):
            relative = path.relative_to(source)
            if path.name == "Chart.yaml" and len(relative.parts) == 1:
                metadata = yaml.safe_load(path.read_text()) | {"version": version}
                data = yaml.safe_dump(metadata).encode()
                info = tarfile.TarInfo(f"{name}/Chart.yaml")
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            elif path.is_file():
                tar.add(path, arcname=f"{name}/{relative.as_posix()}")
    return buffer.getvalue()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def repository(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A Helm repository (index.yaml + archive) for the broker chart as version 9.9.9, on 127.0.0.1."""
    root = tmp_path / "repo"
    root.mkdir()
    archive = _archive(charts.chart_dir(*PINNED["submariner/submariner-k8s-broker"]), "submariner-k8s-broker", "9.9.9")
    (root / "submariner-k8s-broker-9.9.9.tgz").write_bytes(archive)
    index = {
        "apiVersion": "v1",
        "entries": {
            "submariner-k8s-broker": [
                {
                    "name": "submariner-k8s-broker",
                    "version": "9.9.9",
                    "urls": ["submariner-k8s-broker-9.9.9.tgz"],
                    "digest": hashlib.sha256(archive).hexdigest(),
                }
            ]
        },
    }
    (root / "index.yaml").write_text(yaml.safe_dump(index))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", root
    finally:
        server.shutdown()
        server.server_close()


def test_fetches_a_pinned_chart_into_the_layout_the_tests_read(
    repository: tuple[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _ = repository
    dest = tmp_path / "reference"
    (target,) = fetch([Pin(url, "submariner-k8s-broker", "9.9.9")], dest)
    assert target == dest / "charts" / "submariner-k8s-broker-9.9.9"
    assert yaml.safe_load((target / "Chart.yaml").read_text())["version"] == "9.9.9"
    monkeypatch.setenv(charts.REFERENCE_ENV, str(dest))
    release = charts.Release("submariner-k8s-broker", "9.9.9", "submariner-k8s-broker", "submariner-k8s-broker", "{}", "1.35")
    assert any(o["kind"] == "Role" for o in charts.render(release))
    assert charts.chart_crds("submariner-k8s-broker", "9.9.9"), "the CRDs come with the chart"
    # A second run keeps what is there.
    assert fetch([Pin(url, "submariner-k8s-broker", "9.9.9")], dest) == [target]


def test_a_tampered_archive_is_refused(repository: tuple[str, Path], tmp_path: Path) -> None:
    url, root = repository
    (root / "submariner-k8s-broker-9.9.9.tgz").write_bytes(b"not the archive the index describes")
    with pytest.raises(FetchError, match="does not match the index's digest"):
        fetch([Pin(url, "submariner-k8s-broker", "9.9.9")], tmp_path / "reference")


def test_an_archive_that_differs_from_the_repository_pin_is_refused(repository: tuple[str, Path], tmp_path: Path) -> None:
    # The index and the archive agree (whoever controls the repository controls both); the pin does not.
    url, _ = repository
    pinned = {("submariner-k8s-broker", "9.9.9"): ArchivePin("0" * 64, "a test pin")}
    with pytest.raises(FetchError, match=r"not the 0{64} pinned in offline/reference_pins.py \(a test pin\)"):
        fetch([Pin(url, "submariner-k8s-broker", "9.9.9")], tmp_path / "reference", pinned)


def test_every_chart_the_stacks_install_has_a_sha256_pin_or_a_stated_reason() -> None:
    charts_used = {(p.chart, p.version) for p in pins_of()}
    assert charts_used == set(ARCHIVE_SHA256) | set(UNPINNED)
    assert not set(ARCHIVE_SHA256) & set(UNPINNED)
    assert all(len(pin.sha256) == 64 and pin.source for pin in ARCHIVE_SHA256.values())


def test_a_version_the_repository_lacks_is_named(repository: tuple[str, Path], tmp_path: Path) -> None:
    url, _ = repository
    with pytest.raises(FetchError, match=r"has no submariner-k8s-broker 1\.0\.0"):
        fetch([Pin(url, "submariner-k8s-broker", "1.0.0")], tmp_path / "reference")


def test_without_chart_sources_the_run_stops_before_any_test_with_one_message(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    from offline.harness import ROOT

    env = {**os.environ, charts.REFERENCE_ENV: str(tmp_path), "FLEET_REFERENCE_FETCH": "0"}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_cidr.py"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 3
    assert "passed" not in result.stdout
    assert f"{tmp_path} lacks argo-cd" in result.stdout + result.stderr
    for way in (f"{charts.REFERENCE_ENV}=<dir> (set to {tmp_path})", "../shared/reference", "python -m offline.fetch_reference"):
        assert way in result.stdout + result.stderr


def test_the_tests_read_where_fetch_reference_writes(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from offline.fetch_reference import default_dest

    monkeypatch.delenv(charts.REFERENCE_ENV, raising=False)
    monkeypatch.setattr(charts, "SHARED_DIR", tmp_path / "absent")
    assert charts.reference_dir() == default_dest() == charts.CACHE_DIR
    monkeypatch.setenv(charts.REFERENCE_ENV, str(tmp_path))
    assert charts.reference_dir() == default_dest() == tmp_path
