"""The error table: every stable error code, its HTTP status, its CLI exit code and a
short English text, in one place. The service (terminal.service.errors) and the CLI
(terminal.cli.errors) both read it, so one failure looks the same everywhere.

Exceptions carry their code (a `code` attribute: card.errors, jpki, terminal,
simulators) and may set `show_message = False` when their text is not for the user;
`describe(exc)` turns one into a `Failure` (code, message, fields).

Adding a code is one line below: pick a free exit number in its family (the comment
heading each family names its range). tests/terminal/test_error_table.py fails when a
code raised anywhere in the tree has no line here, or when two codes share an exit
number outside the groups declared in SHARED_EXITS. Exit numbers stay below 126 (the
shell keeps 126 and up for itself)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("mynaterm")


@dataclass(frozen=True)
class ErrorCode:
    code: str
    http: int
    exit: int
    text: str


def _table(*rows: tuple[str, int, int, str]) -> dict[str, ErrorCode]:
    table: dict[str, ErrorCode] = {}
    for code, http, exit_code, text in rows:
        if code in table:
            raise ValueError(f"error code {code} listed twice")
        table[code] = ErrorCode(code, http, exit_code, text)
    return table


# fmt: off
CODES = _table(
    # -- 1, 2: unexpected; input refused before anything was done --------------------
    ("INTERNAL_ERROR",               500,   1, "internal error"),
    ("ERROR",                        500,   1, "the operation failed"),
    ("USAGE",                        400,   2, "the command line is not valid"),
    ("SETTINGS",                     400,   2, "the settings are not valid"),
    ("VALIDATION_ERROR",             422,   2, "the request is not valid"),
    ("INVALID_REQUEST",              422,   2, "the request is not valid"),
    ("PIN_FORMAT",                   422,   2, "the PIN has the wrong format"),
    ("DIGEST_INVALID",               422,   2, "the digest has the wrong length or algorithm"),
    ("BAD_REASON",                   422,   2, "unknown revocation reason"),
    ("INVALID_INSTANT",              422,   2, "the instant cannot be represented in UTC"),
    # -- 3-9: PIN and card presence ------------------------------------------------
    ("PIN_INCORRECT",                422,   3, "the PIN is incorrect"),
    ("PIN_BLOCKED",                  423,   4, "the PIN is blocked; it can be reset only at the municipal counter"),  # noqa: E501
    ("CARD_REMOVED",                 409,   5, "the card was removed during the operation"),
    ("READER_BUSY",                  409,   6, "the reader is busy with another operation"),
    ("PCSC_UNAVAILABLE",             503,   7, "the PC/SC service is not running"),
    ("NO_CARD",                      409,   8, "no card in the reader"),
    ("AUDIT_BROKEN",                 500,   9, "the audit trail's hash chain is broken"),
    # -- 10-19: certificates and revocation ------------------------------------------
    ("CERT_REVOKED",                 422,  10, "the certificate is revoked"),
    ("CERT_EXPIRED",                 422,  11, "the certificate is expired or not yet valid"),
    ("CERT_UNTRUSTED",               422,  12, "the certificate does not chain to a trust anchor"),
    ("REVOCATION_UNKNOWN",           503,  13, "no revocation source gave a usable answer"),
    ("CERT_MALFORMED",               422,  14, "the certificate cannot be parsed"),
    ("CERT_INVALID",                 422,  15, "the certificate was refused"),
    ("VALIDATION_FAILED",            422,  16, "certificate validation failed"),
    ("ANCHORS",                      503,  17, "the trust anchors are unusable"),
    # 18: a revocation source (CRL, OCSP, fetch) was unusable; the code says why.
    ("REVOCATION_SOURCE_FAILED",     502,  18, "a revocation source was unusable"),
    ("FETCH_FAILED",                 502,  18, "fetching a CRL failed"),
    ("FETCH_BAD_PEM",                502,  18, "the fetched CRL is not valid PEM"),
    ("FETCH_BAD_URL",                502,  18, "the CRL location is not a usable URL"),
    ("FETCH_HTTP_STATUS",            502,  18, "the CRL server answered an error status"),
    ("FETCH_NETWORK",                502,  18, "the CRL server could not be reached"),
    ("FETCH_NOT_FOUND",              502,  18, "no CRL at that location"),
    ("FETCH_TIMEOUT",                502,  18, "the CRL server did not answer in time"),
    ("FETCH_TOO_LARGE",              502,  18, "the CRL is larger than allowed"),
    ("CRL_UNUSABLE",                 502,  18, "the CRL is unusable"),
    ("CRL_EXPIRED",                  502,  18, "the CRL is past its nextUpdate"),
    ("CRL_ISSUER",                   502,  18, "the CRL is not issued by the certificate's CA"),
    ("CRL_MALFORMED",                502,  18, "the CRL cannot be parsed"),
    ("CRL_NOT_HELD",                 502,  18, "no CRL is held for that partition"),
    ("CRL_NOT_YET_VALID",            502,  18, "the CRL's thisUpdate is in the future"),
    ("CRL_NUMBER_REGRESSION",        502,  18, "the CRL is older than the one held"),
    ("CRL_PARTITION",                502,  18, "the CRL does not cover that partition"),
    ("CRL_SIGNATURE",                502,  18, "the CRL's signature does not verify"),
    ("CRL_TOO_LARGE",                502,  18, "the CRL is larger than allowed"),
    ("CRL_UNSUPPORTED",              502,  18, "the CRL uses an unsupported feature"),
    ("OCSP_UNUSABLE",                502,  18, "the OCSP answer is unusable"),
    ("OCSP_CERTID_MISMATCH",         502,  18, "the OCSP answer is about another certificate"),
    ("OCSP_MALFORMED",               502,  18, "the OCSP answer cannot be parsed"),
    ("OCSP_NONCE_MISMATCH",          502,  18, "the OCSP answer has another nonce"),
    ("OCSP_NONCE_MISSING",           502,  18, "the OCSP answer has no nonce"),
    ("OCSP_NOT_CONFIGURED",          502,  18, "OCSP is not configured"),
    ("OCSP_NOT_YET_VALID",           502,  18, "the OCSP answer is not yet valid"),
    ("OCSP_NO_URL",                  502,  18, "the certificate names no OCSP responder"),
    ("OCSP_RESPONDER_NOT_AUTHORISED", 502, 18, "the OCSP responder is not authorised"),
    ("OCSP_SIGNATURE",               502,  18, "the OCSP answer's signature does not verify"),
    ("OCSP_STALE",                   502,  18, "the OCSP answer is too old"),
    ("OCSP_STATUS",                  502,  18, "the OCSP responder answered an error status"),
    ("OCSP_UNKNOWN",                 502,  18, "the OCSP responder does not know the certificate"),
    # -- 20-29: card and reader -------------------------------------------------------
    ("NO_READER",                    404,  20, "no such reader"),
    ("CARD_TIMEOUT",                 504,  21, "the card did not answer in time"),
    ("CARD_ERROR",                   502,  22, "the card or reader reported an error"),
    ("MALFORMED_CARD_RESPONSE",      502,  23, "the card's answer was malformed"),
    ("NOT_A_MYNUMBER_CARD",          422,  24, "this card is not an Individual Number Card"),
    ("SECURITY_STATUS_NOT_SATISFIED", 409, 25, "the card wants a PIN first"),
    ("PCSC_NOT_INSTALLED",           501,  26, "pyscard is not installed: pip install 'mynaterm[pcsc]'"),  # noqa: E501
    ("CARD_SIGNATURE_INVALID",       422,  27, "the card's signed data does not verify"),
    ("CARD_ISSUER_UNTRUSTED",        422,  28, "the card's CV certificate issuer is not trusted"),
    # -- 30-39: login tokens and challenges ----------------------------------------------
    ("AUTH_FAILED",                  422,  30, "the authentication token was refused"),
    ("TOKEN_MALFORMED",              422,  31, "the authentication token is malformed"),
    ("CHALLENGE_NOT_FOUND",          422,  32, "no live challenge with this nonce"),
    ("CHALLENGE_EXPIRED",            422,  33, "the challenge expired"),
    ("CHALLENGE_REPLAYED",           409,  34, "the challenge was already used"),
    ("ORIGIN_MISMATCH",              422,  35, "the challenge was issued for another origin"),
    ("SIGNATURE_INVALID",            422,  36, "the signature does not verify"),
    ("CHALLENGE_STORE",              503,  37, "the challenge store is unusable"),
    # -- 40-49: signatures (CMS, PDF) -------------------------------------------------------
    ("CMS_INVALID",                  422,  40, "the CMS signature was refused"),
    ("CMS_MALFORMED",                422,  41, "the CMS signature cannot be parsed"),
    ("CMS_DIGEST_MISMATCH",          422,  42, "the signed content does not match the signature"),
    ("CMS_SIGNATURE_INVALID",        422,  43, "the CMS signature does not verify"),
    ("CMS_SIGNER_CERT_MISMATCH",     422,  44, "the signer certificate does not match the signature"),  # noqa: E501
    ("PDF_INVALID",                  422,  45, "the PDF signature was refused"),
    ("PDF_MALFORMED",                422,  46, "the PDF cannot be read"),
    ("PDF_NOT_SIGNED",               422,  47, "the PDF has no signature"),
    ("PDF_SIGNING_FAILED",           500,  48, "signing the PDF failed"),
    # -- 50-70: linkage registry, persons, the symbol core --------------------------------
    ("LINKAGE_ERROR",                400,  50, "the linkage registry refused"),
    ("UNKNOWN_SERIAL",               404,  51, "no certificate with this serial is known"),
    ("UNKNOWN_PERSON",               404,  52, "no such person"),
    ("NOT_LINKED",                   404,  53, "the certificate is not linked to a person"),
    ("LINK_CONFLICT",                409,  54, "the certificate is linked to another person"),
    ("SYMBOL_CONFLICT",              409,  55, "the symbol is linked to another person"),
    ("CHAIN_LOOP",                   409,  56, "a renewal would make a loop"),
    ("ALREADY_RENEWED",              409,  57, "the certificate was already renewed"),
    ("AMBIGUOUS_SERIAL",             409,  58, "the serial is known under several issuers"),
    ("ACTIVE_CARD_EXISTS",           409,  59, "the person already has an active card"),
    ("INVALID_CERT_INFO",            422,  60, "the certificate details are not valid"),
    ("INVALID_RESIDENT_CODE",        422,  61, "the resident-record code is not valid"),
    ("MYNUMBER_INDEX_NOT_CONFIGURED", 501, 62, "the My Number index is not configured"),
    ("MYNUMBER_MISMATCH",            409,  63, "the My Number does not match the record"),
    ("SECRET_MISSING",               503,  64, "a configured secret is missing or unusable"),
    ("CORE_ERROR",                   502,  65, "the symbol core refused"),
    ("CORE_UNAVAILABLE",             503,  66, "the symbol core is unavailable"),
    ("CORE_PROTOCOL",                502,  67, "the symbol core answered something unexpected"),
    ("CORE_CONFIG",                  503,  68, "the symbol core is not configured"),
    ("UNKNOWN_AGENCY",               502,  69, "the symbol core does not know that agency"),
    ("UNKNOWN_SYMBOL",               502,  70, "the symbol core does not know that symbol"),
    # -- 71-79: store and audit trail ----------------------------------------------------
    ("STORE_ERROR",                  503,  71, "the database failed"),
    ("STORE_UNAVAILABLE",            503,  72, "the database is unavailable"),
    ("STORE_BUSY",                   503,  73, "the database stayed locked by another writer"),
    ("STORE_CONFLICT",               409,  74, "a concurrent write won"),
    ("SCHEMA_ERROR",                 503,  75, "the database schema is not the expected one"),
    ("AUDIT_INVALID",                422,  76, "the audit record is not valid"),
    # -- 80-94: the dev wing (test PKI, personas, software cards, vpcd, demo) ------------
    ("PKI_ERROR",                    500,  80, "the test PKI failed"),
    ("PKI_STATE",                    503,  81, "the test PKI is missing or unusable"),
    ("ALREADY_REVOKED",              409,  82, "the certificate is already revoked"),
    ("ISSUANCE",                     500,  83, "the test PKI could not issue the certificate"),
    ("PERSONA",                      404,  84, "unknown test persona, or the personas file is unusable"),  # noqa: E501
    ("CARD_FILE",                    422,  85, "the software card file is unusable"),
    ("EXISTS",                       409,  86, "the file exists already"),
    ("IO",                           500,  87, "a file could not be written"),
    ("LISTEN",                       503,  88, "cannot listen on that address"),
    ("DEMO",                         503,  89, "the demo could not start"),
    ("PCSC_STACK",                   503,  90, "the pcscd + vpcd stack failed"),
    # -- 95-100: the service's own answers to requests -----------------------------------
    ("UNAUTHENTICATED",              401,  95, "sign in first"),
    ("FORBIDDEN",                    403,  96, "this role may not do that"),
    ("TOO_MANY_ATTEMPTS",            429,  97, "too many attempts; wait and try again"),
    ("SESSION_EXPIRED",              401, 101, "the session has ended; staff must sign in again"),
    ("NOT_FOUND",                    404,  98, "not found"),
    ("NOT_AVAILABLE",                501,  99, "not available in this service"),
    # 100: the HTTP request itself was refused (service only).
    ("HOST_NOT_ALLOWED",             421, 100, "this Host is not served here"),
    ("ORIGIN_NOT_ALLOWED",           403, 100, "cross-origin request refused"),
    ("METHOD_NOT_ALLOWED",           405, 100, "method not allowed"),
    ("NOT_ACCEPTABLE",               406, 100, "not acceptable"),
    ("PAYLOAD_TOO_LARGE",            413, 100, "the request is too large"),
    ("UNSUPPORTED_MEDIA_TYPE",       415, 100, "unsupported media type"),
    ("SECRET_IN_URL",                400, 100, "PINs and passwords go in the request body, never in the URL"),  # noqa: E501
    ("DUPLICATE_HEADER",             400, 100, "a header the service decides on was sent twice"),
    # -- 110-119: identity binding at the counter (issue 10) -------------------------------
    ("IDENTITY_MISMATCH",            422, 110, "the card does not belong to this resident"),
    ("UNKNOWN_RESIDENT",             404, 111, "no resident with this code is on the register"),
    ("CARD_MISMATCH",                422, 112, "the card's key does not belong to its certificate"),
    ("COUNTER_REFUSED",              422, 113, "the counter refused the operation"),
    ("RELAY_REFUSED",                502, 114, "the other agency could not be reached"),
    ("RESIDENT_CODE_CHECK_DIGIT",    422,   2, "the resident-record code's check digit is wrong"),
    ("FACE_TO_FACE_REQUIRED",        422,   2, "confirm the face-to-face verification first"),
    ("IDENTITY_FACTS_REQUIRED",      422,   2, "give the sign PIN or the card-info PIN"),
    # -- 102-109, 120-121: the card's life at the counter (issue 15; a model of the
    # issuer channel) ----------------------------------------------------------------------
    ("PIN_MISMATCH",                 422,   2, "the two entries of the new PIN differ"),
    ("PIN_NOT_SET",                  409, 102, "the PIN is not set yet; the holder sets it at the municipal counter"),  # noqa: E501
    ("PIN_ALREADY_SET",              409, 103, "the PIN is already set"),
    ("NO_SIGN_CERTIFICATE",          409, 104, "this card has no signature certificate"),
    ("ISSUER_REFUSED",               502, 105, "the issuing authority refused"),
    ("ISSUER_AUTH_FAILED",           502, 106, "the card did not accept the issuer's authentication"),  # noqa: E501
    ("CARD_ADMIN_ERROR",             502, 107, "the card's administrative command failed"),
    ("CARD_ADMIN_REFUSED",           502, 108, "the card refused an administrative command"),
    ("ACTIVATION_REFUSED",           502, 109, "the card refused to activate the new keys"),
    ("KEY_CERTIFICATION_FAILED",     502, 120, "the new certificate is not for the card's new key"),
    ("CARD_LIFE_ERROR",              400, 121, "the counter operation was refused"),
    # -- 122-125: free ------------------------------------------------------------------------
)
# fmt: on

# Exit numbers deliberately shared: a script reacts the same way to every code of the
# group (the JSON error's `code` still tells them apart).
SHARED_EXITS: dict[int, str] = {
    1: "unexpected failure",
    2: "the input was refused before anything was done (no PIN try spent); fix and rerun",
    18: "a revocation source (CRL, OCSP, fetch) was unusable; the code says which check",
    100: "the service refused the HTTP request itself (never a CLI outcome)",
}


# Codes only the CLI (or the dev wing) reports: the service never answers them, so the
# pages need no text for them (tests/service/test_page_texts.py). The revocation-source
# codes (exit 18) reach the service only inside REVOCATION_UNKNOWN's `reasons`.
CLI_ONLY: frozenset[str] = frozenset(
    {
        "ERROR", "USAGE", "SETTINGS", "BAD_REASON", "AUDIT_BROKEN", "ANCHORS",
        "CHALLENGE_STORE", "CORE_CONFIG", "UNKNOWN_AGENCY", "UNKNOWN_SYMBOL",
        "PKI_ERROR", "PKI_STATE", "ALREADY_REVOKED", "ISSUANCE", "PERSONA", "CARD_FILE",
        "EXISTS", "IO", "LISTEN", "DEMO", "PCSC_STACK",
        *(code for code, entry in CODES.items() if entry.exit == 18),
    }
)  # fmt: skip


def lookup(code: str) -> ErrorCode:
    """The table's line for `code`; an unknown code is an internal error."""
    return CODES.get(code) or CODES["INTERNAL_ERROR"]


def exit_code(code: str) -> int:
    return lookup(code).exit


def http_status(code: str) -> int:
    return lookup(code).http


@dataclass(frozen=True)
class Failure:
    """What a caller is told about an error: its code, a one-line message and the
    structured fields it needs to act (remaining tries, revocation date, reason)."""

    code: str
    message: str
    fields: dict[str, Any] = field(default_factory=dict)

    @property
    def http(self) -> int:
        return http_status(self.code)

    @property
    def exit(self) -> int:
        return exit_code(self.code)


def code_of(exc: BaseException) -> str | None:
    """The stable code an exception carries (its `code` attribute), if the table has it."""
    code = getattr(exc, "code", None)
    return code if isinstance(code, str) and code in CODES else None


def describe(exc: BaseException) -> Failure | None:
    """The Failure for an exception that carries a known code; None for any other (the
    caller treats it as unexpected)."""
    code = code_of(exc)
    if code is None:
        return None
    entry = CODES[code]
    if getattr(exc, "show_message", True) is False:
        # The exception's text is for logs (reader internals, status words, the core's
        # own words); the table's text is what a person acts on.
        message = entry.text
    else:
        message = _safe_message(exc, entry.text)
    fields = public_fields(exc)
    if code == "PIN_BLOCKED":
        fields["remaining"] = 0
    return Failure(code, message, fields)


def public_fields(exc: BaseException) -> dict[str, Any]:
    """Structured fields an error offers its callers: the error's own `fields()`, or its
    `cause`'s, plus `remaining` and `reason` attributes, made JSON-safe."""
    source: Any = exc
    fields_method = getattr(exc, "fields", None)
    if not callable(fields_method) and getattr(exc, "cause", None) is not None:
        source = exc.cause  # type: ignore[attr-defined]
        fields_method = getattr(source, "fields", None)
    raw: dict[str, Any] = {}
    if callable(fields_method):
        try:
            produced = fields_method()
        except Exception:  # a broken fields() must not turn a clear error into a crash
            log.debug("fields() of %s failed", type(exc).__name__, exc_info=True)
            produced = {}
        if isinstance(produced, dict):
            raw = dict(produced)
    for name in ("remaining", "reason"):
        value = getattr(source, name, None)
        if value is not None and name not in raw:
            raw[name] = value
    return {
        str(key): json_safe(value)
        for key, value in raw.items()
        if key not in ("code", "message") and value is not None
    }


def json_safe(value: Any) -> Any:
    if isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, bytes):
        return value.hex()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    return str(value)


def _safe_message(exc: BaseException, default: str) -> str:
    text = str(exc).strip()
    # Library messages are written for callers; still keep them short and one-line.
    if not text or "\n" in text or len(text) > 300:
        return default
    return text


def markdown_table() -> str:
    """The README's table: one row per exit number, its codes with their HTTP status,
    and what it means (kept in sync by tests/terminal/test_error_table.py)."""
    by_exit: dict[int, list[ErrorCode]] = {}
    for entry in CODES.values():
        by_exit.setdefault(entry.exit, []).append(entry)
    lines = ["| exit | code (HTTP status) | meaning |", "|---:|---|---|"]
    for number in sorted(by_exit):
        entries = by_exit[number]
        codes = ", ".join(f"`{e.code}` ({e.http})" for e in entries)
        meaning = SHARED_EXITS.get(number, entries[0].text)
        lines.append(f"| {number} | {codes} | {meaning} |")
    return "\n".join(lines)


if __name__ == "__main__":  # `python -m terminal.codes`: the README's table
    print(markdown_table())
