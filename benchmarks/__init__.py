"""The program's own cost as the fleet grows: ``python -m benchmarks`` (docs/benchmarks.md)."""
