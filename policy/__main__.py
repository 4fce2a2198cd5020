"""Entry point the policy engine runs: ``pulumi preview --policy-pack policy``."""

import sys
from pathlib import Path

# The engine runs this file by path, so the repo root (which holds the `policy` package) is not yet importable.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pulumi_policy import EnforcementLevel, PolicyPack

from policy.crossguard import PACK_NAME, policies

PolicyPack(name=PACK_NAME, enforcement_level=EnforcementLevel.MANDATORY, policies=policies())
