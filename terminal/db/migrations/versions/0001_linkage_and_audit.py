"""Linkage registry (persons, symbols, cards, certificates) and the audit trail.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_audit_head_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_head")),
    )
    # The chain starts empty: seq 0, the genesis hash (64 zeros).
    op.execute(
        sa.text("INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, :h)").bindparams(h="0" * 64)
    )
    op.create_table(
        "audit_records",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("recorded_at", sa.String(length=32), nullable=False),
        sa.Column("operator_id", sa.String(length=64), nullable=False),
        sa.Column("terminal_id", sa.String(length=64), nullable=False),
        sa.Column("operation", sa.String(length=48), nullable=False),
        sa.Column("subject_kind", sa.String(length=16), nullable=False),
        sa.Column("subject_ref", sa.String(length=200), nullable=False),
        sa.Column("result", sa.String(length=48), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_records")),
        sa.UniqueConstraint("hash", name=op.f("uq_audit_records_hash")),
    )
    with op.batch_alter_table("audit_records", schema=None) as batch_op:
        batch_op.create_index(
            "ix_audit_records_subject", ["subject_kind", "subject_ref"], unique=False
        )

    op.create_table(
        "persons",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("integrated_number", sa.String(length=15), nullable=False),
        sa.Column("mynumber_hmac", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "length(integrated_number) = 15", name=op.f("ck_persons_integrated_number_len")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_persons")),
        sa.UniqueConstraint("integrated_number", name=op.f("uq_persons_integrated_number")),
        sa.UniqueConstraint("mynumber_hmac", name=op.f("uq_persons_mynumber_hmac")),
    )
    op.create_table(
        "cards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("card_id", sa.String(length=32), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.CheckConstraint(
            "status IN ('active', 'replaced', 'revoked')", name=op.f("ck_cards_status")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_cards_person_id_persons")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cards")),
        sa.UniqueConstraint("card_id", name=op.f("uq_cards_card_id")),
        sa.UniqueConstraint("request_id", name=op.f("uq_cards_request_id")),
    )
    with op.batch_alter_table("cards", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cards_person_id"), ["person_id"], unique=False)

    op.create_table(
        "person_symbols",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("agency", sa.String(length=32), nullable=False),
        sa.Column("symbol", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_person_symbols_person_id_persons")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person_symbols")),
        sa.UniqueConstraint("agency", "symbol", name=op.f("uq_person_symbols_agency_symbol")),
        sa.UniqueConstraint("person_id", "agency", name=op.f("uq_person_symbols_person_id_agency")),
    )
    op.create_table(
        "certificates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("serial", sa.String(length=50), nullable=False),
        sa.Column("issuer_key_id", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=4), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("not_after", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("revoked_reason", sa.String(length=32), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("card_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("replaces_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(status = 'active') = (revoked_at IS NULL)",
            name=op.f("ck_certificates_revoked_has_time"),
        ),
        sa.CheckConstraint("kind IN ('auth', 'sign')", name=op.f("ck_certificates_kind")),
        sa.CheckConstraint(
            "status IN ('active', 'revoked', 'superseded')", name=op.f("ck_certificates_status")
        ),
        sa.CheckConstraint("not_before < not_after", name=op.f("ck_certificates_validity_order")),
        sa.CheckConstraint(
            "replaces_id IS NULL OR replaces_id < id", name=op.f("ck_certificates_chain_backwards")
        ),
        sa.ForeignKeyConstraint(
            ["card_id"], ["cards.id"], name=op.f("fk_certificates_card_id_cards")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_certificates_person_id_persons")
        ),
        sa.ForeignKeyConstraint(
            ["replaces_id"],
            ["certificates.id"],
            name=op.f("fk_certificates_replaces_id_certificates"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificates")),
        sa.UniqueConstraint("card_id", "kind", name=op.f("uq_certificates_card_id_kind")),
        sa.UniqueConstraint("replaces_id", name=op.f("uq_certificates_replaces_id")),
        sa.UniqueConstraint(
            "serial", "issuer_key_id", name=op.f("uq_certificates_serial_issuer_key_id")
        ),
    )
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_certificates_person_id"), ["person_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_certificates_person_id"))

    op.drop_table("certificates")
    op.drop_table("person_symbols")
    with op.batch_alter_table("cards", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cards_person_id"))

    op.drop_table("cards")
    op.drop_table("persons")
    with op.batch_alter_table("audit_records", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_records_subject")

    op.drop_table("audit_records")
    op.drop_table("audit_head")
