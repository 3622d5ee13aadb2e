"""Errors that carry where the problem is and what was expected."""

from __future__ import annotations

INTERRUPTED = 130  # the exit code for Ctrl-C: the shell's 128 + SIGINT


class RdkPackError(Exception):
    """Base class: every rdkpack error names a file or resource and says what is wrong."""


class ConfigError(RdkPackError):
    def __init__(self, path: str, key: str, message: str, expected: str | None = None):
        self.path, self.key, self.expected = path, key, expected
        text = f"{path}: {key}: {message}"
        super().__init__(text + (f" (expected {expected})" if expected else ""))


class DeployError(RdkPackError):
    """A deployment could not be started or did not finish; the message says which pack and why."""


class ScanError(RdkPackError):
    """A scan could not read the account; the message says what to fix (credentials, region, permission)."""


class UsageError(RdkPackError):
    """The command line itself is wrong (an unknown option, a value out of range); the message names the option."""


class FileError(RdkPackError):
    """A file could not be read or written: the path and the operating system's reason."""

    def __init__(self, path: str, reason: str):
        self.path = path
        super().__init__(f"{path}: {reason}")


class AwsError(RdkPackError):
    """An AWS call failed in a way no command expected; the message names the operation and what to grant or fix."""


class SecurityHubError(RdkPackError):
    """Security Hub refused an account's findings outright (access denied, not enabled); the message names the
    account, the region and what to fix."""


class RolloutError(RdkPackError):
    """An organization rollout, status read or removal could not go on; the message names the StackSet, pack,
    account or region and what to do."""


class AutomationRefused(RdkPackError):
    """Systems Manager would refuse to start the automation (a parameter, the document): nothing ran. The message
    names the document, the parameter and the rule it broke."""
