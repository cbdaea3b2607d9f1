"""appointments, staff, inbox

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import dynamic.platform.models

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('blocks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=60), nullable=False),
    sa.Column('location_id', sa.String(length=100), nullable=False),
    sa.Column('counter', sa.Integer(), nullable=True),
    sa.Column('starts_at', dynamic.platform.models.UTCDateTime(), nullable=False),
    sa.Column('ends_at', dynamic.platform.models.UTCDateTime(), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('created_at', dynamic.platform.models.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_blocks'))
    )
    with op.batch_alter_table('blocks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_blocks_slug'), ['slug'], unique=False)

    op.create_table('calendar_feeds',
    sa.Column('slug', sa.String(length=60), nullable=False),
    sa.Column('location_id', sa.String(length=100), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', dynamic.platform.models.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('slug', 'location_id', name=op.f('pk_calendar_feeds')),
    sa.UniqueConstraint('secret_hash', name=op.f('uq_calendar_feeds_secret_hash'))
    )
    op.create_table('staff_users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=60), nullable=False),
    sa.Column('username', sa.String(length=80), nullable=False),
    sa.Column('display_name', sa.String(length=120), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('created_at', dynamic.platform.models.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_users')),
    sa.UniqueConstraint('slug', 'username', name=op.f('uq_staff_users_slug'))
    )
    with op.batch_alter_table('staff_users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_users_slug'), ['slug'], unique=False)

    op.create_table('appointments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=60), nullable=False),
    sa.Column('location_id', sa.String(length=100), nullable=False),
    sa.Column('service_id', sa.String(length=100), nullable=False),
    sa.Column('starts_at', dynamic.platform.models.UTCDateTime(), nullable=False),
    sa.Column('ends_at', dynamic.platform.models.UTCDateTime(), nullable=False),
    sa.Column('counter', sa.Integer(), nullable=False),
    sa.Column('persons', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('held_until', dynamic.platform.models.UTCDateTime(), nullable=True),
    sa.Column('created_at', dynamic.platform.models.UTCDateTime(), nullable=False),
    sa.Column('booked_at', dynamic.platform.models.UTCDateTime(), nullable=True),
    sa.Column('cancelled_at', dynamic.platform.models.UTCDateTime(), nullable=True),
    sa.Column('reminded_at', dynamic.platform.models.UTCDateTime(), nullable=True),
    sa.Column('marked_at', dynamic.platform.models.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_appointments_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appointments')),
    sa.UniqueConstraint('code', name=op.f('uq_appointments_code'))
    )
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appointments_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_appointments_slug'), ['slug'], unique=False)
        batch_op.create_index(batch_op.f('ix_appointments_starts_at'), ['starts_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_appointments_status'), ['status'], unique=False)

    op.create_table('messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=60), nullable=True),
    sa.Column('sender', sa.String(length=200), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('link', sa.String(length=500), nullable=True),
    sa.Column('created_at', dynamic.platform.models.UTCDateTime(), nullable=False),
    sa.Column('read_at', dynamic.platform.models.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_messages_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_messages'))
    )
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_messages_account_id'), ['account_id'], unique=False)

    op.create_table('staff_sessions',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=60), nullable=False),
    sa.Column('created_at', dynamic.platform.models.UTCDateTime(), nullable=False),
    sa.Column('last_seen_at', dynamic.platform.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['staff_id'], ['staff_users.id'], name=op.f('fk_staff_sessions_staff_id_staff_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('token_hash', name=op.f('pk_staff_sessions'))
    )
    with op.batch_alter_table('staff_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_sessions_staff_id'), ['staff_id'], unique=False)

    op.create_table('slot_claims',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=60), nullable=False),
    sa.Column('location_id', sa.String(length=100), nullable=False),
    sa.Column('counter', sa.Integer(), nullable=False),
    sa.Column('unit_start', dynamic.platform.models.UTCDateTime(), nullable=False),
    sa.Column('appointment_id', sa.Integer(), nullable=True),
    sa.Column('block_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointments.id'], name=op.f('fk_slot_claims_appointment_id_appointments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['block_id'], ['blocks.id'], name=op.f('fk_slot_claims_block_id_blocks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_slot_claims')),
    sa.UniqueConstraint('slug', 'location_id', 'counter', 'unit_start', name=op.f('uq_slot_claims_slug'))
    )
    with op.batch_alter_table('slot_claims', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_slot_claims_appointment_id'), ['appointment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_slot_claims_block_id'), ['block_id'], unique=False)
        batch_op.create_index('ix_slot_claims_location_time', ['slug', 'location_id', 'unit_start'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('slot_claims', schema=None) as batch_op:
        batch_op.drop_index('ix_slot_claims_location_time')
        batch_op.drop_index(batch_op.f('ix_slot_claims_block_id'))
        batch_op.drop_index(batch_op.f('ix_slot_claims_appointment_id'))

    op.drop_table('slot_claims')
    with op.batch_alter_table('staff_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_sessions_staff_id'))

    op.drop_table('staff_sessions')
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_messages_account_id'))

    op.drop_table('messages')
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_appointments_status'))
        batch_op.drop_index(batch_op.f('ix_appointments_starts_at'))
        batch_op.drop_index(batch_op.f('ix_appointments_slug'))
        batch_op.drop_index(batch_op.f('ix_appointments_account_id'))

    op.drop_table('appointments')
    with op.batch_alter_table('staff_users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_users_slug'))

    op.drop_table('staff_users')
    op.drop_table('calendar_feeds')
    with op.batch_alter_table('blocks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_blocks_slug'))

    op.drop_table('blocks')
