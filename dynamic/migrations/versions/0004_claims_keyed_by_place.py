"""claims keyed by their appointment's place; confirmation mails per hold

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05

A claim's foreign key now names its appointment's (id, slug, location_id, counter): the
database refuses a claim at another location or counter than its appointment's (a move
through another location's page could create one). Claims that already disagree with their
appointment are deleted first: they block a time at a place where nobody is booked.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "DELETE FROM slot_claims WHERE appointment_id IS NOT NULL AND NOT EXISTS ("
        "SELECT 1 FROM appointments a WHERE a.id = slot_claims.appointment_id AND a.slug = slot_claims.slug "
        "AND a.location_id = slot_claims.location_id AND a.counter = slot_claims.counter)")
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('confirmation_mails', sa.Integer(), server_default='0', nullable=False))
        batch_op.create_unique_constraint('uq_appointments_place', ['id', 'slug', 'location_id', 'counter'])
    with op.batch_alter_table('slot_claims', schema=None) as batch_op:
        batch_op.drop_constraint('fk_slot_claims_appointment_id_appointments', type_='foreignkey')
        batch_op.create_foreign_key('fk_slot_claims_appointment_place', 'appointments',
                                    ['appointment_id', 'slug', 'location_id', 'counter'],
                                    ['id', 'slug', 'location_id', 'counter'], ondelete='CASCADE')


def downgrade() -> None:
    with op.batch_alter_table('slot_claims', schema=None) as batch_op:
        batch_op.drop_constraint('fk_slot_claims_appointment_place', type_='foreignkey')
        batch_op.create_foreign_key('fk_slot_claims_appointment_id_appointments', 'appointments',
                                    ['appointment_id'], ['id'], ondelete='CASCADE')
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.drop_constraint('uq_appointments_place', type_='unique')
        batch_op.drop_column('confirmation_mails')
