"""API keys: hashed keys with a role, created and revoked by admins

Revision ID: 0005_api_keys
Revises: 0004_privacy
Create Date: 2026-11-30 18:30:00
"""

import sqlalchemy as sa
from alembic import op

import eventreg.models.common

revision = "0005_api_keys"
down_revision = "0004_privacy"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", eventreg.models.common.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", eventreg.models.common.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", eventreg.models.common.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key_hash"),
    )


def downgrade() -> None:
    op.drop_table("api_keys")
