"""python -m offline.ec2_data [--update]: components/aws/data/ from what EC2 answers, as moto ships it.

moto's maintainers crawl EC2's DescribeInstanceTypes and DescribeInstanceTypeOfferings (location type
availability-zone-id) in every region into moto/ec2/resources (scripts/ec2_get_instance_type_offerings.py
and scripts/get_instance_info.py in getmoto/moto). The program reads a compact copy, so it never imports
a testing library; the tests check the copy against the pinned moto (requirements.txt). Without
--update, exit 1 when the copy differs.
"""

from __future__ import annotations

import argparse
import gzip
import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

from components.aws.ec2_sizes import INSTANCE_TYPES_FILE
from components.aws.instance_offerings import OFFERINGS_FILE


def _resources() -> Path:
    spec = importlib.util.find_spec("moto")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("python -m offline.ec2_data: moto is not installed (requirements.txt pins it)")
    return Path(next(iter(spec.submodule_search_locations))) / "ec2" / "resources"


def _load(path: Path) -> Any:
    return json.loads(gzip.decompress(path.read_bytes()))


def _default_card_enis(network: dict[str, Any]) -> int:
    """Network interfaces on the default network card: what the EKS AMI's max-pods formula counts."""
    index = network.get("DefaultNetworkCardIndex", 0)
    cards = [c for c in network.get("NetworkCards", []) if c.get("NetworkCardIndex") == index]
    return int(cards[0]["MaximumNetworkInterfaces"] if cards else network.get("MaximumNetworkInterfaces", 0))


def instance_types() -> dict[str, list[int]]:
    """Instance type -> [default vCPUs, memory MiB, ENIs on the default card, IPv4 addresses per ENI]."""
    types = _load(_resources() / "instance_types.json.gz")
    return {
        name: [
            info["VCpuInfo"]["DefaultVCpus"],
            info["MemoryInfo"]["SizeInMiB"],
            _default_card_enis(info.get("NetworkInfo", {})),
            int(info.get("NetworkInfo", {}).get("Ipv4AddressesPerInterface", 0)),
        ]
        for name, info in sorted(types.items())
    }


def offerings() -> dict[str, dict[str, list[str]]]:
    """Region -> instance type -> the zone IDs offering it."""
    found: dict[str, dict[str, list[str]]] = {}
    for path in sorted((_resources() / "instance_type_offerings" / "availability-zone-id").glob("*.json.gz")):
        region = path.name.removesuffix(".json.gz")
        table: dict[str, list[str]] = {}
        for row in _load(path):
            table.setdefault(row["InstanceType"], []).append(row["Location"])
        found[region] = {name: sorted(zones) for name, zones in sorted(table.items())}
    return found


def rendered() -> dict[Path, bytes]:
    types = json.dumps(instance_types(), separators=(",", ":"), sort_keys=True) + "\n"
    offered = json.dumps(offerings(), separators=(",", ":"), sort_keys=True).encode()
    # mtime 0: the same data gives the same bytes.
    return {INSTANCE_TYPES_FILE: types.encode(), OFFERINGS_FILE: gzip.compress(offered, mtime=0)}


def stale() -> list[Path]:
    return [path for path, data in rendered().items() if not path.is_file() or path.read_bytes() != data]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m offline.ec2_data", description=__doc__.splitlines()[0])
    parser.add_argument("--update", action="store_true", help="write the copy")
    args = parser.parse_args(argv)
    if args.update:
        for path, data in rendered().items():
            path.write_bytes(data)
            print(f"wrote {path} ({len(data):,} bytes)")
        return 0
    if found := stale():
        print(f"out of date with moto: {', '.join(map(str, found))} (python -m offline.ec2_data --update)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
