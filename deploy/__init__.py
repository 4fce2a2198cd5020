"""Automation API deploys: ``python -m deploy --stack prod [--up]`` (docs/ci.md)."""
