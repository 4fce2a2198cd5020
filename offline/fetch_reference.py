"""``python -m offline.fetch_reference [--dest DIR]``: the pinned charts (and the CRDs inside them) from their Helm repositories.

The chart tests read ``<reference dir>/charts/<chart>-<version>/``. This machine has a copy in
``../shared/reference``; a CI runner does not, so it runs this first and points
``FLEET_REFERENCE_DIR`` at ``--dest``. Which charts: exactly the Helm releases the reference stacks
register (evaluated offline), at their pinned versions, each from its release's repository. Each
archive's sha256 must match the repository index's digest.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import sys
import tarfile
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import urljoin

import yaml

from offline import charts
from offline.harness import hub_stack_of, placeholder_hub, run_stack
from offline.reference_pins import ARCHIVE_SHA256, UNPINNED, ArchivePin

REFERENCE_STACKS = ("mgmt", "prod", "staging")
TIMEOUT_SECONDS = 60


@dataclass(frozen=True, order=True)
class Pin:
    repository: str
    chart: str
    version: str


def pins_of(stacks: Iterable[str] = REFERENCE_STACKS) -> list[Pin]:
    """Every (repository, chart, version) the stacks install, from their offline evaluation."""
    pins: set[Pin] = set()
    for stack in stacks:
        hub = hub_stack_of(stack)
        run = run_stack(stack, stack_outputs={hub: placeholder_hub(hub)} if hub else None)
        for release in run.of_type("kubernetes:helm.sh/v3:Release"):
            inputs = release.inputs
            pins.add(Pin(inputs["repositoryOpts"]["repo"], inputs["chart"], inputs["version"]))
    return sorted(pins)


class FetchError(Exception):
    pass


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:
        body: bytes = response.read()
        return body


def _archive_url(pin: Pin) -> tuple[str, str | None]:
    base = pin.repository.rstrip("/") + "/"
    index = yaml.safe_load(_get(urljoin(base, "index.yaml")))
    for entry in (index.get("entries") or {}).get(pin.chart, []):
        if str(entry.get("version")) == pin.version:
            return urljoin(base, entry["urls"][0]), entry.get("digest")
    raise FetchError(f"{pin.repository} has no {pin.chart} {pin.version}")


def _extract(archive: bytes, chart: str, target: Path) -> None:
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        for member in tar.getmembers():
            parts = PurePosixPath(member.name).parts
            if not parts or parts[0] != chart or ".." in parts or PurePosixPath(member.name).is_absolute():
                raise FetchError(f"{chart}: unexpected path {member.name!r} in the archive")
            if not (member.isfile() or member.isdir()):
                continue  # no links or devices from an archive
            destination = target.joinpath(*parts[1:])
            if member.isdir():
                destination.mkdir(parents=True, exist_ok=True)
                continue
            destination.parent.mkdir(parents=True, exist_ok=True)
            source = tar.extractfile(member)
            assert source is not None
            destination.write_bytes(source.read())


def fetch(pins: Iterable[Pin], dest: Path, archive_pins: Mapping[tuple[str, str], ArchivePin] = ARCHIVE_SHA256) -> list[Path]:
    """Each pinned chart into ``dest/charts/<chart>-<version>/``; already present ones are kept.
    An archive must match its sha256 in ``archive_pins`` (offline/reference_pins.py) when it has one,
    and its repository index's digest always."""
    fetched = []
    for pin in pins:
        target = dest / "charts" / f"{pin.chart}-{pin.version}"
        chart_yaml = target / "Chart.yaml"
        if chart_yaml.is_file() and str(yaml.safe_load(chart_yaml.read_text()).get("version")) == pin.version:
            fetched.append(target)
            continue
        url, digest = _archive_url(pin)
        archive = _get(url)
        actual = hashlib.sha256(archive).hexdigest()
        if digest and actual != digest:
            raise FetchError(f"{pin.chart} {pin.version}: {url} does not match the index's digest {digest}")
        pinned = archive_pins.get((pin.chart, pin.version))
        if pinned is not None and actual != pinned.sha256:
            raise FetchError(
                f"{pin.chart} {pin.version}: {url} has sha256 {actual}, not the {pinned.sha256} pinned in "
                f"offline/reference_pins.py ({pinned.source})"
            )
        partial = target.with_name(target.name + ".partial")
        _extract(archive, pin.chart, partial)
        partial.rename(target)
        fetched.append(target)
    return fetched


def default_dest() -> Path:
    """Where the tests read a fetched copy: FLEET_REFERENCE_DIR when set, else the cache."""
    configured = os.environ.get(charts.REFERENCE_ENV)
    return Path(configured) if configured else charts.CACHE_DIR


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m offline.fetch_reference", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--dest",
        type=Path,
        default=default_dest(),
        help=f"reference directory to fill (default: ${charts.REFERENCE_ENV} when set, else {charts.CACHE_DIR.name}, "
        "where the tests look when ../shared/reference is absent)",
    )
    args = parser.parse_args(argv)
    try:
        pins = pins_of()
        for path in fetch(pins, args.dest):
            print(path)
        for pin in pins:
            if (reason := UNPINNED.get((pin.chart, pin.version))) is not None:
                print(f"{pin.chart} {pin.version}: checked against its repository index only ({reason})", file=sys.stderr)
    except (FetchError, OSError) as exc:
        print(f"fetch_reference: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
