"""The one loader for project code loaded by path: rule modules, their kit, remediation scripts.

Rule folders and remediation scripts are not packages (each ships alone), so every caller (scan,
demo, validate, build, the tests) imports them by path through `load_module`.
"""

from __future__ import annotations

import functools
import importlib.util
import sys
from pathlib import Path

from rdkpack.errors import ConfigError

KIT_NAME = "rule_kit.py"


def import_kit_beside(module_path: Path) -> None:
    """Make `import rule_kit` in a rule module loaded by path find its own folder's kit, as Lambda would."""
    kit = module_path.parent / KIT_NAME
    if module_path.name == KIT_NAME or not kit.is_file():
        return
    spec = importlib.util.spec_from_file_location("rule_kit", kit)
    module = importlib.util.module_from_spec(spec)
    sys.modules["rule_kit"] = module
    spec.loader.exec_module(module)


@functools.cache
def rule_module(root: Path, rule_name: str):
    """The rule's own module, imported from rules/<RULE>/ exactly as Lambda would run it, once per process."""
    path = root / "rules" / rule_name / f"{rule_name}.py"
    return load_module(path, rule_name, needs=(rule_name, "lambda_handler"))


def load_module(path: Path, name: str, needs: tuple[str, ...] = ()):
    """Import a rule or remediation file as module `name`; a ConfigError names the file when it cannot be used."""
    if not path.is_file():
        raise ConfigError(str(path), "(file)", "not found", expected=f"a Python module defining {', '.join(needs)}")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        import_kit_beside(path)
        spec.loader.exec_module(module)
    except Exception as error:  # project code: whatever stops it importing, name the file and the cause
        del sys.modules[name]
        raise ConfigError(str(path), "(module)", f"cannot be imported: {type(error).__name__}: {error}") from error
    missing = [attribute for attribute in needs if not hasattr(module, attribute)]
    if missing:
        raise ConfigError(str(path), missing[0], "not defined", expected=f"a module defining {', '.join(needs)}")
    return module
