"""A folder with Pulumi.yaml and only the stack files this repository ships, so tests that list or
scan stack files (stacks joining a hub, deploy order) never see a user's own Pulumi.<stack>.yaml."""

from __future__ import annotations

import shutil
import tempfile
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REFERENCE_STACKS = ("prod", "staging")


@cache
def reference_project() -> Path:
    directory = Path(tempfile.mkdtemp(prefix="fleet-reference-project-"))
    for name in ("Pulumi.yaml", *(f"Pulumi.{stack}.yaml" for stack in REFERENCE_STACKS)):
        shutil.copy(ROOT / name, directory / name)
    return directory
