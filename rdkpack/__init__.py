"""Tooling for the rdk conformance-pack project."""
