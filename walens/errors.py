"""The user-facing errors of walens and the exit codes the CLI maps them to."""

from __future__ import annotations

import sys
from collections.abc import Iterable

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_INPUT = 3
EXIT_AWS = 4  # AWS could not be reached or refused the credentials: no review was made
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


class AwsError(WalensError):
    """AWS could not be reached, or the credentials are missing, expired or refused."""

    exit_code = EXIT_AWS


class MissingExtra(WalensError):
    """A mode whose optional dependencies are not installed: names the ``pip install`` that adds them."""

    def __init__(self, what: str, extra: str) -> None:
        super().__init__(f"{what} needs the optional dependencies of walens[{extra}]: "
                         f"pip install 'walens[{extra}]' (from a clone: pip install '.[{extra}]')")
        self.extra = extra


# Optional dependencies: the top-level module each extra brings, and the extra that brings it.
EXTRAS = {"boto3": "account", "botocore": "account", "s3transfer": "account", "cfnlint": "cfn-lint"}


def need_extra(module: str, what: str) -> None:
    """Raise :class:`MissingExtra` when ``module`` (boto3, cfnlint) is not installed; ``what`` needs it."""
    from importlib.util import find_spec

    try:
        found = find_spec(module) is not None
    except (ImportError, ValueError):  # a broken or blocked installation counts as missing
        found = False
    if not found:
        raise MissingExtra(what, EXTRAS[module])


def missing_extra(exc: BaseException) -> MissingExtra | None:
    """The :class:`MissingExtra` for an import of an optional dependency that failed, else None."""
    if isinstance(exc, ModuleNotFoundError) and exc.name:
        top = exc.name.split(".")[0]
        if top in EXTRAS:
            return MissingExtra(f"this command (it imports {top})", EXTRAS[top])
    return None


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


def did_you_mean(value: str, candidates: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest candidate to a mistyped ``value``, else ``""``."""
    import re
    from difflib import get_close_matches

    def numbers(text: str) -> str:  # COST01 and COST1 name COST001
        return re.sub(r"\d+", lambda m: str(int(m.group())), text.casefold())

    by_folded: dict[str, str] = {}
    for candidate in candidates:
        by_folded.setdefault(candidate.casefold(), candidate)
    same = [c for c in by_folded.values() if numbers(c) == numbers(value)]
    close = same or [by_folded[c] for c in get_close_matches(value.casefold(), list(by_folded), n=1, cutoff=0.6)]
    return f" (did you mean {close[0]!r}?)" if close else ""


# ClientError codes that mean the credentials themselves are the problem, not a permission.
_EXPIRED_CODES = {"ExpiredToken", "ExpiredTokenException", "RequestExpired", "TokenRefreshRequired"}
_REJECTED_CODES = {"InvalidClientTokenId", "UnrecognizedClientException", "SignatureDoesNotMatch",
                   "InvalidAccessKeyId", "AuthFailure", "InvalidToken", "IncompleteSignature",
                   "MissingAuthenticationToken"}


def aws_error(exc: BaseException, doing: str = "call AWS") -> WalensError | None:
    """The one-line user error for a botocore failure to reach AWS or to authenticate; None otherwise.

    ``doing`` completes "cannot ..." for a refusal that is neither about credentials nor the network.
    Never imports botocore: an exception of it exists only when something already did.
    """
    bx = sys.modules.get("botocore.exceptions")
    if bx is None:
        return None

    def kinds(*names: str) -> tuple[type[BaseException], ...]:
        # Some classes are newer than the oldest botocore walens accepts.
        return tuple(k for k in (getattr(bx, n, None) for n in names) if isinstance(k, type))

    if isinstance(exc, kinds("NoRegionError")):
        return UsageError("no region: pass --region, or set AWS_REGION or a profile region")
    if isinstance(exc, kinds("InvalidRegionError", "UnknownRegionError")):
        return UsageError(f"--region: {exc}")
    if isinstance(exc, kinds("ProfileNotFound")):
        profile = getattr(exc, "kwargs", {}).get("profile")
        return AwsError(f"AWS profile {profile!r} not found in the shared config and credentials files "
                        "(see 'aws configure list-profiles')")
    if isinstance(exc, kinds("NoCredentialsError")):
        return AwsError("no AWS credentials found (looked in the environment, the shared credentials and "
                        "config files, SSO and the instance role): set AWS_PROFILE, or run 'aws configure' "
                        "or 'aws sso login'")
    if isinstance(exc, kinds("SSOError", "LoginError", "TokenRetrievalError", "NoAuthTokenError")):
        return AwsError(f"the AWS login session is missing or has expired: {exc} "
                        "(run 'aws sso login' or 'aws login' for the profile)")
    if isinstance(exc, kinds("PartialCredentialsError", "CredentialRetrievalError",
                             "RefreshWithMFAUnsupportedError", "InvalidConfigError", "ConfigParseError",
                             "UnknownCredentialError")):
        return AwsError(f"cannot get AWS credentials: {exc}")
    if isinstance(exc, kinds("ConnectionError", "HTTPClientError")):
        return AwsError(f"cannot reach AWS: {exc} (check the network, a proxy (HTTPS_PROXY) or "
                        "AWS_ENDPOINT_URL)")
    if isinstance(exc, kinds("ClientError")):
        response = getattr(exc, "response", None) or {}
        error = response.get("Error") or {}
        code = str(error.get("Code") or "Unknown")
        message = str(error.get("Message") or "").strip()
        detail = f"{code}: {message}" if message else code
        if code in _EXPIRED_CODES:
            return AwsError(f"the AWS credentials have expired ({detail}): refresh them (e.g. 'aws sso login') "
                            "and run again")
        if code in _REJECTED_CODES:
            return AwsError(f"AWS rejected the credentials ({detail}): check AWS_PROFILE or the access keys")
        operation = getattr(exc, "operation_name", None)
        return AwsError(f"cannot {doing}: AWS refused {operation or 'the call'} ({detail})")
    return None
