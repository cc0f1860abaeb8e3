"""privacy: consent records the notice version; erasure and anonymisation are recorded

Revision ID: 0004_privacy
Revises: 0003_evaluations
"""

import sqlalchemy as sa
from alembic import op

import eventreg.models.common

revision = "0004_privacy"
down_revision = "0003_evaluations"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Consent given before this migration was given to a notice without a version: left NULL, not guessed.
    with op.batch_alter_table("registrations") as batch:
        batch.add_column(sa.Column("consent_notice_version", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("erased_at", eventreg.models.common.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table("comments") as batch:
        batch.add_column(sa.Column("consent_notice_version", sa.String(length=20), nullable=True))
    with op.batch_alter_table("consultations") as batch:
        batch.add_column(
            sa.Column("anonymised_at", eventreg.models.common.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("consultations") as batch:
        batch.drop_column("anonymised_at")
    with op.batch_alter_table("comments") as batch:
        batch.drop_column("consent_notice_version")
    with op.batch_alter_table("registrations") as batch:
        batch.drop_column("erased_at")
        batch.drop_column("consent_notice_version")
