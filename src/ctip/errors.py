"""One exception tree for ctip. Every error says what happened, why, and what to do.

    CtipError                      base; exit code 1, HTTP 500
    ├── ConfigurationError         settings, home directory, database URL (exit 2, HTTP 500)
    ├── KeyError_                  missing/unreadable/wrong key file (exit 3, HTTP 500)
    │   └── SealError              ciphertext cannot be opened: wrong key or tampered (exit 3)
    ├── InputFileError             a file that cannot be read at all (exit 4, HTTP 400)
    ├── ValidationError            one value breaks a rule (file, row, column, value, allowed)
    ├── NotFoundError              no such record, or not visible to you (exit 5, HTTP 404)
    ├── PermissionDeniedError      role or agency may not do this (exit 6, HTTP 403)
    ├── AuthenticationError        not logged in / bad credentials (exit 6, HTTP 401)
    │   └── CodeReusedError        right password, one-time code already used: wait for the next
    ├── ConflictError              someone else changed the record first (exit 7, HTTP 409)
    ├── WorkflowError              a transition the NRM state machine forbids (exit 7, HTTP 409)
    ├── AuditChainError            the audit log's hash chain is broken (exit 1)
    ├── EvidenceError              evidence that does not verify, or a locker rule (exit 11, 409)
    ├── ExchangeError              exchange package or directory refused: forged, tampered,
    │                              stranger, replayed, expired/revoked, out of profile (exit 12)
    ├── EstimationError            the data cannot support the estimate asked for (exit 8, HTTP 422)
    ├── DisclosureError            a release would breach disclosure rules or budget (exit 9)
    ├── NotComparableError         two assessments' frameworks differ and no crosswalk is declared
    └── MissingDependencyError     an optional extra is missing; says how to install it (exit 10)

Adapters (the CLI's single handler, the web app's exception handler) render ``str(error)`` and use
``exit_code`` / ``http_status``; nothing else catches ``CtipError`` to hide it.
"""

from __future__ import annotations

MAX_MESSAGE_CHARS = 2_000  # a message quoting a 400 MB header made the terminal wrap for minutes


def bounded(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """``text`` cut to ``limit`` characters, saying how much was left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text) - limit:,} more characters not shown)"


class Phrase:
    """A text with values, kept as its template and params so an adapter can translate it:
    ``str()`` gives the English text. A guard's reason why a step is refused is one, and an
    error quoting it keeps it among its ``params``; the web pages translate both (the extractor
    collects every literal ``Phrase("...")`` of the service modules)."""

    __slots__ = ("template", "params")

    def __init__(self, template: str, *, params: dict[str, object] | None = None) -> None:
        self.template = template
        self.params: dict[str, object] = dict(params or {})

    def __str__(self) -> str:
        return self.template.format(**self.params) if self.params else self.template

    @classmethod
    def of(cls, error: CtipError, *, hint: bool = False) -> Phrase:
        """An error's message (or hint: ``""`` when it has none) as a Phrase, for a message
        that quotes another error's (an import stopped by a reader's refusal)."""
        return cls((error.hint_template or "") if hint else error.template, params=error.params)

    def __repr__(self) -> str:
        return f"Phrase({self.template!r}, params={self.params!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Phrase) and (self.template, self.params) == (
            other.template, other.params)

    def __hash__(self) -> int:
        return hash(self.template)


class Code:
    """A code quoted in a message (a case status, a role, a queue, a decision, a purpose...):
    ``str()`` gives it as the English text writes it (``'presumed_victim'``, quoted unless
    ``quoted=False``; ``text`` when the English names it otherwise, as a queue by its title),
    and a page shows the label its catalogue has for ``kind`` in the reader's language (the
    domain knows no labels: ``web.pages.labels.CODE_KINDS`` maps each kind to its table).
    Several codes (``value`` a list or tuple) are joined with ", "."""

    __slots__ = ("kind", "value", "text", "quoted")

    def __init__(self, kind: str, value: str | list[str] | tuple[str, ...], *,
                 text: str | None = None, quoted: bool = True) -> None:
        self.kind, self.text, self.quoted = kind, text, quoted
        self.value: str | tuple[str, ...] = value if isinstance(value, str) else tuple(value)

    def codes(self) -> tuple[str, ...]:
        return (self.value,) if isinstance(self.value, str) else self.value

    def __str__(self) -> str:
        shown = list(self.codes()) if self.text is None else [self.text]
        return ", ".join(repr(x) if self.quoted else x for x in shown)

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __repr__(self) -> str:
        return f"Code({self.kind!r}, {self.value!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Code) and (self.kind, self.value, self.text, self.quoted) == (
            other.kind, other.value, other.text, other.quoted)

    def __hash__(self) -> int:
        return hash((self.kind, self.value))


class CtipError(Exception):
    """Base of every error ctip raises on purpose. Message and hint are bounded in length
    whatever they quote (the last line of defence; messages also cut each quoted value).

    A message that quotes values is written as a template with ``params`` (``"a {status} case
    cannot be referred", params={"status": ...}``), not as an f-string: ``template`` and
    ``hint_template`` keep the literal texts, so an adapter can show them translated (the web
    pages look them up in their catalogues) and fill in the same values."""

    exit_code: int = 1
    http_status: int = 500

    def __init__(
        self, message: str, *, hint: str | None = None, params: dict[str, object] | None = None
    ) -> None:
        self.template, self.hint_template = message, hint
        self.params: dict[str, object] = dict(params or {})
        if params:
            message = message.format(**params)
            hint = None if hint is None else hint.format(**params)
        message = bounded(message)
        hint = None if hint is None else bounded(hint)
        self.message = message
        self.hint = hint
        super().__init__(message if hint is None else f"{message}\n  What to do: {hint}")


class ConfigurationError(CtipError):
    exit_code = 2


class KeyError_(CtipError):  # noqa: N801 - trailing underscore avoids shadowing builtins.KeyError
    """A key file is missing, unreadable, has loose permissions or is malformed."""

    exit_code = 3


class SealError(KeyError_):
    """A sealed value could not be opened: wrong key, unknown key id, or tampered ciphertext."""


class InputFileError(CtipError):
    """A file cannot be read at all (empty, binary, wrong format, truncated, undecodable)."""

    exit_code = 4
    http_status = 400


class ValidationError(CtipError):
    """One value breaks a rule. Carries where it was found so a person can fix the source."""

    exit_code = 4
    http_status = 422

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        row: int | None = None,
        column: str | None = None,
        value: object = None,
        allowed: str | None = None,
        hint: str | None = None,
        params: dict[str, object] | None = None,
    ) -> None:
        template, hint_template = message, hint
        if params:
            message = message.format(**params)
            hint = None if hint is None else hint.format(**params)
        self.file, self.row, self.column = file, row, column
        self.value, self.allowed = value, allowed
        where = ", ".join(
            part
            for part in (
                f"file {file}" if file else "",
                f"row {row}" if row is not None else "",
                f"column {column!r}" if column else "",
            )
            if part
        )
        text = f"{where}: {message}" if where else message
        if value is not None:
            text += f" (got {str(value)[:80]!r})"
        if allowed:
            text += f"; allowed: {allowed}"
        super().__init__(text, hint=hint)
        # the rule alone (adapters add value and allowed themselves), and its values
        self.template, self.hint_template = template, hint_template
        self.params = dict(params or {})


class NotFoundError(CtipError):
    exit_code = 5
    http_status = 404


class PermissionDeniedError(CtipError):
    exit_code = 6
    http_status = 403


class AuthenticationError(CtipError):
    exit_code = 6
    http_status = 401


class CodeReusedError(AuthenticationError):
    """The password was right but the one-time code was already used (RFC 6238 accepts a code
    once): the person should wait for the next code. Not counted towards the lockout."""


class ConflictError(CtipError):
    exit_code = 7
    http_status = 409


class WorkflowError(CtipError):
    exit_code = 7
    http_status = 409


class AuditChainError(CtipError):
    exit_code = 1


class EvidenceError(CtipError):
    """Evidence that does not verify (altered blob, broken custody chain, bad token), or an
    action the locker's rules forbid (disposal under legal hold, an untrusted TSA)."""

    exit_code = 11
    http_status = 409


class ExchangeError(CtipError):
    """An exchange package or directory that is refused (issue 17). ``reason`` is a short code
    (``bad-signature``, ``untrusted``, ``replayed``, ``expired``, ``revoked``, ``out-of-profile``,
    ``not-a-recipient``, ``tampered``, ``malformed``, ``stale-directory``) recorded in the audit
    log; the message says what failed and what to do."""

    exit_code = 12
    http_status = 422

    def __init__(self, message: str, *, reason: str, hint: str | None = None,
                 params: dict[str, object] | None = None) -> None:
        super().__init__(message, hint=hint, params=params)
        self.reason = reason


class EstimationError(CtipError):
    exit_code = 8
    http_status = 422


class DisclosureError(CtipError):
    exit_code = 9
    http_status = 422


class NotComparableError(CtipError):
    """Two assessments made under different framework versions, with no declared crosswalk."""

    exit_code = 7
    http_status = 409


class MissingDependencyError(CtipError):
    exit_code = 10

    def __init__(self, package: str, extra: str) -> None:
        super().__init__(
            f"This needs the optional package {package!r}, which is not installed.",
            hint=f"pip install 'ctip[{extra}]'",
        )
