"""The program run offline under Pulumi mocks: shared by the tests, ``python -m plan`` and the benchmarks."""
