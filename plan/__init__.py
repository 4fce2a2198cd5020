"""Offline fleet plan: what a stack declares, evaluated under Pulumi mocks (no cloud, no CLI)."""
