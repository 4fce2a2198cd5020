"""Reading and validating the stack's config: the ``fleet:*`` model, fleet-wide rules, the hub stack's config."""
