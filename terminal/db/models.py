"""The terminal's schema: linkage registry and audit trail, in one database so that an
operation and its audit record commit in the same transaction.

What is NOT here is as important as what is: no column holds a My Number, a
resident-record code, or any of the basic 4 facts (name, address, birth date, sex).
A person is an internal integrated number plus the symbols the core gave us; a My
Number, when the counter must find a person by it, is only a keyed hash.
`FORBIDDEN_COLUMN_WORDS` is checked against this metadata by the tests.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from terminal.db.types import UtcDateTime

# Column-name fragments that would betray personal data the terminal must never keep.
FORBIDDEN_COLUMN_WORDS = (
    "name",
    "address",
    "birth",
    "sex",
    "gender",
    "resident",
    "my_number",
    "mynumber_plain",
    "pin",
)
# Names allowed despite containing a fragment above (they hold none of that data).
ALLOWED_COLUMN_NAMES = frozenset({"mynumber_hmac"})

GENESIS_HASH = "0" * 64

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Person(Base):
    """One resident as this municipality's systems know them: an integrated number
    (団体内統合宛名番号) generated here, never derived from the My Number."""

    __tablename__ = "persons"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    integrated_number: Mapped[str] = mapped_column(String(15), unique=True)
    # HMAC-SHA256 of the My Number under a configured secret; lets an authorised officer
    # find the person by number without the number being stored.
    mynumber_hmac: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)

    symbols: Mapped[list[PersonSymbol]] = relationship(back_populates="person")

    __table_args__ = (
        CheckConstraint("length(integrated_number) = 15", name="integrated_number_len"),
    )


class PersonSymbol(Base):
    """A person's agency-specific symbol (機関別符号) as obtained from the core."""

    __tablename__ = "person_symbols"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    agency: Mapped[str] = mapped_column(String(32))
    symbol: Mapped[str] = mapped_column(String(64))

    person: Mapped[Person] = relationship(back_populates="symbols")

    __table_args__ = (
        UniqueConstraint("person_id", "agency"),
        # One agency's symbol names one person only.
        UniqueConstraint("agency", "symbol"),
    )


class Card(Base):
    """One physical card: pairs its auth and sign certificates (証明書紐付け)."""

    __tablename__ = "cards"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    card_id: Mapped[str] = mapped_column(String(32), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    status: Mapped[str] = mapped_column(String(10))
    issued_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    # The caller's idempotency key: replaying the same request returns the same result.
    request_id: Mapped[str | None] = mapped_column(String(64), unique=True)

    __table_args__ = (
        CheckConstraint("status IN ('active', 'replaced', 'revoked')", name="status"),
    )


class Certificate(Base):
    """A JPKI certificate linked to a person. Serials are up to 20 bytes, kept as
    decimal text; (serial, issuer_key_id) is unique, so a serial links one person."""

    __tablename__ = "certificates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    serial: Mapped[str] = mapped_column(String(50))
    issuer_key_id: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(4))
    not_before: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    not_after: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(10))
    revoked_reason: Mapped[str | None] = mapped_column(String(32))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    # Renewal chain (新旧シリアル番号紐付け): the certificate this one replaced. Unique, so
    # an old certificate has one successor; `replaces_id < id` makes a loop impossible.
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("certificates.id"), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)

    __table_args__ = (
        UniqueConstraint("serial", "issuer_key_id"),
        # One ACTIVE certificate per kind on a card (renewal on the same card keeps the
        # superseded ones); migration 0004.
        Index(
            "uq_certificates_card_id_kind_active",
            "card_id",
            "kind",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
        CheckConstraint("kind IN ('auth', 'sign')", name="kind"),
        CheckConstraint("status IN ('active', 'revoked', 'superseded')", name="status"),
        CheckConstraint("replaces_id IS NULL OR replaces_id < id", name="chain_backwards"),
        CheckConstraint("(status = 'active') = (revoked_at IS NULL)", name="revoked_has_time"),
        CheckConstraint("not_before < not_after", name="validity_order"),
    )


class AuditRecord(Base):
    """One hash-chained audit record (情報提供等記録): who, when, what, on which subject
    reference, and the result; never the content."""

    __tablename__ = "audit_records"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    # ISO-8601 UTC text, hashed exactly as stored.
    recorded_at: Mapped[str] = mapped_column(String(32))
    operator_id: Mapped[str] = mapped_column(String(64))
    terminal_id: Mapped[str] = mapped_column(String(64))
    operation: Mapped[str] = mapped_column(String(48))
    subject_kind: Mapped[str] = mapped_column(String(16))
    subject_ref: Mapped[str] = mapped_column(String(200))
    result: Mapped[str] = mapped_column(String(48))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)

    __table_args__ = (Index("ix_audit_records_subject", "subject_kind", "subject_ref"),)


class AuditHead(Base):
    """The chain's single head row: the last seq and hash. Every writer locks it first,
    which serialises appends across terminals, and deleting records from the tail of the
    chain shows against it."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)


class OperatorSession(Base):
    """A signed-in operator session, kept server-side so that signing out (or an idle
    timeout) holds across restarts. Only a SHA-256 of the session token is stored: the
    table does not hand out usable tokens to whoever reads it."""

    __tablename__ = "operator_sessions"

    token_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    operator_id: Mapped[str] = mapped_column(String(64), index=True)
    roles: Mapped[str] = mapped_column(String(64))  # comma-separated Role values
    page: Mapped[str] = mapped_column(String(16))  # "counter" or "kiosk"
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, index=True)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
