"""Conformance packs: build them from the project, write and check them, validate, IAM, limits, deploy."""
