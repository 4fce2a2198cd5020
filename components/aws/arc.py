"""Route 53 Application Recovery Controller (ARC) routing controls: the facts the fleet relies on.

Sources: Route 53 ARC Developer Guide, "Routing control" and its API references.
- The recovery control configuration API (clusters, control panels, routing controls, safety
  rules) is served only in US West (Oregon), us-west-2.
- Routing control states are read and changed through the ARC cluster's own data-plane endpoints,
  one per Region in ``ClusterEndpoints``; any single one may be unavailable, so a client tries
  them in turn ("Working with routing control in ARC: retry across the cluster endpoints").
- A Route 53 health check of type RECOVERY_CONTROL is healthy exactly while its routing control
  is On; a CALCULATED check is healthy when at least ``child_health_threshold`` of its children are.
- An assertion safety rule (type ATLEAST, threshold N over the asserted controls) makes ARC refuse
  any state change that would leave fewer than N controls On.
"""

from __future__ import annotations

CONTROL_REGION = "us-west-2"
ASSERTION_WAIT_MS = 5000
"""How long an assertion rule waits before it allows another change (API minimum is a few seconds)."""
