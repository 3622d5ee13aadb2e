"""Support code for the tests (paths, loaders, fakes, shared cases). No tests live here."""
