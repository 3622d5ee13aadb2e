"""One copy of botocore's model files per test process, instead of one per boto3 session.

Every rule, script and fixture builds its own boto3 session, and botocore's Loader caches the JSON it
reads (service models, endpoint rule sets, partitions) on the Loader, so each session parses them again:
about a third of the suite's time went to json.loads of the same files. The files are read-only and a
session already hands the same dicts to all its clients, so sharing them across sessions that search the
same paths changes nothing a test can observe but the time.
"""

from __future__ import annotations

from botocore import loaders

_BY_SEARCH_PATHS: dict[tuple[str, ...], dict] = {}


def share_loaded_models() -> None:
    """Make every Loader created from now on use the cache of earlier Loaders with the same search paths."""
    if getattr(loaders.Loader.__init__, "shares_models", False):
        return
    original = loaders.Loader.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        self._cache = _BY_SEARCH_PATHS.setdefault(tuple(self.search_paths), {})

    init.shares_models = True
    loaders.Loader.__init__ = init
