"""The fleet's CrossGuard policy pack: ``pulumi preview --policy-pack policy`` (docs/policy.md)."""
