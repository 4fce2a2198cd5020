"""Automation API deploys: ``python -m deploy --stack prod [--up]`` (README: Deploying from CI)."""
