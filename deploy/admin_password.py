"""Argo CD's admin password, from the hub stack's own state (not an output: every joining stack reads
the hub's outputs, docs/ci.md "The trust boundary").

    pulumi stack export --stack mgmt --show-secrets | python -m deploy.admin_password

Reads a ``pulumi stack export`` document on stdin and prints the password the hub's
``argocd-admin-password`` resource generated; exit 1 when there is none (fleet:argocd.admin.enabled
is false, or the export was taken without --show-secrets).
"""

from __future__ import annotations

import json
import sys
from typing import Any

RESOURCE_TYPE = "random:index/randomPassword:RandomPassword"
RESOURCE_NAME = "argocd-admin-password"


def admin_password(exported: Any) -> str | None:
    """The generated password in a stack export, or None (absent, or still encrypted)."""
    resources = (exported.get("deployment") or {}).get("resources") or [] if isinstance(exported, dict) else []
    for resource in resources:
        if resource.get("type") == RESOURCE_TYPE and str(resource.get("urn", "")).endswith(f"::{RESOURCE_NAME}"):
            result = (resource.get("outputs") or {}).get("result")
            if isinstance(result, dict):
                # {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "plaintext": "\"...\""}
                plaintext = result.get("plaintext")
                return str(json.loads(plaintext)) if isinstance(plaintext, str) else None
            return str(result) if isinstance(result, str) else None
    return None


def main() -> int:
    try:
        exported = json.load(sys.stdin)
    except json.JSONDecodeError as error:
        print(f"python -m deploy.admin_password: stdin is not a stack export ({error})", file=sys.stderr)
        return 2
    password = admin_password(exported)
    if password is None:
        print(
            "no Argo CD admin password in this export: is fleet:argocd.admin.enabled true on this stack, "
            "and was it exported with --show-secrets?",
            file=sys.stderr,
        )
        return 1
    print(password)
    return 0


if __name__ == "__main__":
    sys.exit(main())
