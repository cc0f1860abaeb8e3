"""Captured rows: fingerprints of rows imported from capture workbooks

Revision ID: 0006_captured_rows
Revises: 0005_api_keys
Create Date: 2026-11-30 18:40:00
"""

import sqlalchemy as sa
from alembic import op

import eventreg.models.common

revision = "0006_captured_rows"
down_revision = "0005_api_keys"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "captured_rows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("workbook_id", sa.String(length=40), nullable=False),
        sa.Column("comment_id", sa.Integer(), nullable=False),
        sa.Column("created_at", eventreg.models.common.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["comment_id"], ["comments.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("fingerprint"),
    )
    op.create_index(op.f("ix_captured_rows_workbook_id"), "captured_rows", ["workbook_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_captured_rows_workbook_id"), table_name="captured_rows")
    op.drop_table("captured_rows")
