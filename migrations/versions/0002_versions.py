"""document versions: links from each item to the item(s) of the previous version it comes from

Revision ID: 0002_versions
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = '0002_versions'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'document_item_links',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('item_id', sa.Integer(), nullable=False),
        sa.Column('ancestor_id', sa.Integer(), nullable=False),
        sa.Column('relation', sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(['item_id'], ['document_items.id']),
        sa.ForeignKeyConstraint(['ancestor_id'], ['document_items.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('item_id', 'ancestor_id'),
    )
    with op.batch_alter_table('document_item_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_document_item_links_item_id'), ['item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_document_item_links_ancestor_id'), ['ancestor_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('document_item_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_document_item_links_ancestor_id'))
        batch_op.drop_index(batch_op.f('ix_document_item_links_item_id'))
    op.drop_table('document_item_links')
