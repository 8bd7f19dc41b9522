"""The user-facing errors of walens and the exit codes the CLI maps them to."""

from __future__ import annotations

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_INPUT = 3
EXIT_INCOMPLETE = 5  # --strict: a gap, or a selected rule that ended not_assessed
EXIT_INTERNAL = 70  # a bug: never a finding, never a pass


class WalensError(Exception):
    """A user error: bad template, rule, option or configuration. Printed as one line."""

    exit_code = EXIT_USAGE

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = f"{self.file}:{self.line}: " if self.line else f"{self.file}: "
        return f"{where}{self.message}"


class UsageError(WalensError):
    """A bad command-line option or argument."""


class RuleError(WalensError):
    """A malformed rule file: names the file and the field."""


class InputError(WalensError):
    """An input that could not be read as a template (recorded per file; the batch goes on).

    ``kind`` is a short machine-readable category: ``yaml``, ``json``, ``structure``,
    ``duplicate-key``, ``too-large``, ``binary``, ``alias-bomb``, ``too-deep``, ``io``, ``encoding``.
    """

    exit_code = EXIT_INPUT

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None,
                 kind: str = "structure") -> None:
        super().__init__(message, file=file, line=line)
        self.kind = kind


class NotATemplate(Exception):
    """The file parsed but is not CloudFormation/SAM (a package.json, an unrelated YAML): skipped."""
