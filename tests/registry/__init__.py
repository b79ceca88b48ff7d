"""Tests of the party registry (broker.registry)."""
