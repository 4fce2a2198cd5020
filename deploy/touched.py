"""Which stacks a change touches: ``git diff --name-only A B | python -m deploy.touched``.

A stack file touches its own stack; anything the program, its dependencies or the policy pack
is made of touches every stack; docs, tests and the GitOps template touch none. Prints
``stacks=<JSON list>`` for ``$GITHUB_OUTPUT``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_STACK_FILE = re.compile(r"^Pulumi\.(?P<stack>[^/]+)\.yaml$")
# Paths whose change can alter what any stack declares.
PROGRAM_PATHS = ("__main__.py", "Pulumi.yaml", "requirements.txt", "components/", "policy/")


def stacks_in(root: Path = ROOT) -> list[str]:
    return sorted(m["stack"] for path in root.glob("Pulumi.*.yaml") if (m := _STACK_FILE.match(path.name)))


def touched_stacks(changed_paths: Iterable[str], stacks: Iterable[str]) -> list[str]:
    known = sorted(set(stacks))
    touched: set[str] = set()
    for raw in changed_paths:
        path = raw.strip()
        if not path:
            continue
        if any(path == prefix or (prefix.endswith("/") and path.startswith(prefix)) for prefix in PROGRAM_PATHS):
            return known
        match = _STACK_FILE.match(path)
        if match and match["stack"] in known:
            touched.add(match["stack"])
    return sorted(touched)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m deploy.touched",
        description="Read changed paths on stdin (git diff --name-only A B); print stacks=<JSON list> for $GITHUB_OUTPUT.",
    )
    parser.parse_args(argv)
    if sys.stdin.isatty():
        parser.print_usage(sys.stderr)
        print("python -m deploy.touched: pipe the changed paths in (git diff --name-only A B | ...)", file=sys.stderr)
        return 2
    print(f"stacks={json.dumps(touched_stacks(sys.stdin, stacks_in()))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
