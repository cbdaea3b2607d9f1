"""FIT-Connect reply channel: the metadata with the citizen's e-mail reply channel, and which was sent

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('fit_connect_submissions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('metadata_with_reply_jwe', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('reply_channel', sa.String(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('fit_connect_submissions', schema=None) as batch_op:
        batch_op.drop_column('reply_channel')
        batch_op.drop_column('metadata_with_reply_jwe')
