"""Places held until the participant confirms from their e-mail.

Revision ID: 0007_place_holds
Revises: 0006_captured_rows
"""

import sqlalchemy as sa
from alembic import op

import eventreg.models.common

revision = "0007_place_holds"
down_revision = "0006_captured_rows"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("event_sessions") as batch:
        batch.add_column(sa.Column("hold_places", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("hold_hours", sa.Integer(), nullable=False, server_default="4"))
    with op.batch_alter_table("registrations") as batch:
        batch.add_column(sa.Column("hold_expires_at", eventreg.models.common.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("registrations") as batch:
        batch.drop_column("hold_expires_at")
    with op.batch_alter_table("event_sessions") as batch:
        batch.drop_column("hold_hours")
        batch.drop_column("hold_places")
