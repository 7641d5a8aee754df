"""A card keeps one ACTIVE certificate per kind, not one certificate per kind: renewal
on the same card (issue 15) puts a new auth or sign certificate on a card that keeps its
superseded ones in the history. The unique (card_id, kind) constraint becomes a partial
unique index over active certificates (SQLite and PostgreSQL both have them).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

INDEX = "uq_certificates_card_id_kind_active"
ACTIVE = sa.text("status = 'active'")


def upgrade() -> None:
    with op.batch_alter_table("certificates") as batch:
        batch.drop_constraint("uq_certificates_card_id_kind", type_="unique")
    op.create_index(
        INDEX,
        "certificates",
        ["card_id", "kind"],
        unique=True,
        sqlite_where=ACTIVE,
        postgresql_where=ACTIVE,
    )


def downgrade() -> None:
    op.drop_index(INDEX, table_name="certificates")
    with op.batch_alter_table("certificates") as batch:
        batch.create_unique_constraint("uq_certificates_card_id_kind", ["card_id", "kind"])
