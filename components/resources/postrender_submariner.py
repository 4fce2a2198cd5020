#!/usr/bin/env python3
"""Helm post-renderer for the submariner-operator chart: drops the ``Submariner`` object it renders.

Helm uninstalls a release's objects without waiting, so the operator would be gone before it
could clear the finalizer on the ``Submariner`` object it manages, and the namespace would hang
in Terminating. The program creates that object itself, as a resource that depends on the
release: Pulumi then deletes it first and waits for the operator to finish, then uninstalls.

Helm runs this file (stdin: rendered manifests, stdout: the same without that kind). It uses the
standard library only, since it runs under whatever python3 the deploying machine has.
"""

from __future__ import annotations

import re
import sys

DROPPED_KIND = "Submariner"
_DOCUMENT_SEPARATOR = re.compile(r"^---[ \t]*$", re.MULTILINE)


def drop_kind(manifests: str, kind: str = DROPPED_KIND) -> str:
    """The YAML stream without documents whose top-level ``kind`` is ``kind``."""
    top_level_kind = re.compile(rf"^kind:[ \t]*[\"']?{re.escape(kind)}[\"']?[ \t]*$", re.MULTILINE)
    documents = _DOCUMENT_SEPARATOR.split(manifests)
    kept = [document for document in documents if not top_level_kind.search(document)]
    return "---".join(kept)


if __name__ == "__main__":
    sys.stdout.write(drop_kind(sys.stdin.read()))
