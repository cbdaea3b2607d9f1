"""idempotent office messages: the Idempotency-Key and a hash of the request on application_messages

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('application_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('idempotency_key', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('request_hash', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint('uq_application_messages_idempotency_key',
                                          ['application_id', 'idempotency_key'])


def downgrade() -> None:
    with op.batch_alter_table('application_messages', schema=None) as batch_op:
        batch_op.drop_constraint('uq_application_messages_idempotency_key', type_='unique')
        batch_op.drop_column('request_hash')
        batch_op.drop_column('idempotency_key')
