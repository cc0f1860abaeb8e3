"""session evaluations: one round per session, one answer per registration

Revision ID: 0003_evaluations
Revises: 0002_versions
Create Date: 2026-11-30 18:30:00
"""

import sqlalchemy as sa
from alembic import op

import eventreg.models.common

revision = '0003_evaluations'
down_revision = '0002_versions'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'evaluation_rounds',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('session_id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=16), nullable=False),
        sa.Column('include_confirmed', sa.Boolean(), nullable=False),
        sa.Column('opened_at', eventreg.models.common.UTCDateTime(timezone=True), nullable=False),
        sa.Column('closes_at', eventreg.models.common.UTCDateTime(timezone=True), nullable=False),
        sa.Column('invited', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['session_id'], ['event_sessions.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('code'),
        sa.UniqueConstraint('session_id'),
    )
    op.create_table(
        'evaluation_answers',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('round_id', sa.Integer(), nullable=False),
        sa.Column('registration_id', sa.Integer(), nullable=True),
        sa.Column('sex', sa.String(length=20), nullable=False),
        sa.Column('sector', sa.String(length=40), nullable=False),
        sa.Column('expectations', sa.Integer(), nullable=False),
        sa.Column('usefulness', sa.Integer(), nullable=False),
        sa.Column('organisation', sa.Integer(), nullable=False),
        sa.Column('again', sa.String(length=10), nullable=False),
        sa.Column('most_useful', sa.Text(), nullable=False),
        sa.Column('to_improve', sa.Text(), nullable=False),
        sa.Column('created_at', eventreg.models.common.UTCDateTime(timezone=True), nullable=False),
        sa.Column('updated_at', eventreg.models.common.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['registration_id'], ['registrations.id']),
        sa.ForeignKeyConstraint(['round_id'], ['evaluation_rounds.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('registration_id'),
    )
    op.create_index(op.f('ix_evaluation_answers_round_id'), 'evaluation_answers', ['round_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_evaluation_answers_round_id'), table_name='evaluation_answers')
    op.drop_table('evaluation_answers')
    op.drop_table('evaluation_rounds')
