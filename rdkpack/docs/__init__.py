"""The documentation site's generated pages: a page per rule and per remediation document, and the CLI reference."""

from rdkpack.docs.site import generated_pages, stale_pages

__all__ = ["generated_pages", "stale_pages"]
