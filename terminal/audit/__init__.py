"""Hash-chained audit trail of who did what to which subject, never the content."""

from terminal.audit.trail import (
    AuditEntry,
    AuditError,
    AuditTrail,
    Operation,
    Operator,
    Subject,
    SubjectKind,
    VerifyReport,
)

__all__ = [
    "AuditEntry",
    "AuditError",
    "AuditTrail",
    "Operation",
    "Operator",
    "Subject",
    "SubjectKind",
    "VerifyReport",
]
