"""FIT-Connect: the delivery channel per office and the progress of each submission

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import dynamic.platform.models

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('offices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('channel', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('fit_connect_destination', sa.String(length=36), nullable=True))
    op.create_table('fit_connect_submissions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('destination_id', sa.String(length=36), nullable=True),
    sa.Column('leika', sa.String(length=100), nullable=False),
    sa.Column('region', sa.String(length=12), nullable=True),
    sa.Column('service_name', sa.String(length=200), nullable=False),
    sa.Column('schema_uri', sa.String(length=500), nullable=False),
    sa.Column('kid', sa.String(length=200), nullable=False),
    sa.Column('metadata_jwe', sa.Text(), nullable=False),
    sa.Column('submission_id', sa.String(length=36), nullable=True),
    sa.Column('case_id', sa.String(length=36), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_at', dynamic.platform.models.UTCDateTime(), nullable=False),
    sa.Column('submitted_at', dynamic.platform.models.UTCDateTime(), nullable=True),
    sa.Column('decided_at', dynamic.platform.models.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'],
                            name=op.f('fk_fit_connect_submissions_application_id_applications'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fit_connect_submissions')),
    sa.UniqueConstraint('application_id', name=op.f('uq_fit_connect_submissions_application_id')),
    sa.UniqueConstraint('submission_id', name=op.f('uq_fit_connect_submissions_submission_id'))
    )
    op.create_table('fit_connect_attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('submission_row', sa.Integer(), nullable=False),
    sa.Column('attachment_id', sa.String(length=36), nullable=False),
    sa.Column('jwe', sa.Text(), nullable=False),
    sa.Column('uploaded_at', dynamic.platform.models.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['submission_row'], ['fit_connect_submissions.id'],
                            name=op.f('fk_fit_connect_attachments_submission_row_fit_connect_submissions'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fit_connect_attachments'))
    )
    with op.batch_alter_table('fit_connect_attachments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fit_connect_attachments_submission_row'), ['submission_row'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('fit_connect_attachments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fit_connect_attachments_submission_row'))
    op.drop_table('fit_connect_attachments')
    op.drop_table('fit_connect_submissions')
    with op.batch_alter_table('offices', schema=None) as batch_op:
        batch_op.drop_column('fit_connect_destination')
        batch_op.drop_column('channel')
