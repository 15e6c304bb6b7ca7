"""Smoke checks of the benchmark scripts (bench/)."""
