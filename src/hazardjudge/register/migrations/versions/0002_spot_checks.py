"""spot checks (抽查检查 of the enterprises' 自查自改): the 调度表's second section

Two tables: one row per spot check, one row per item answered (是/否/未查明; the items
are the keys of spot_check_items.yaml). Both get the no-delete trigger of revision 0001, so
"nothing is ever deleted" holds for them in the database too.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hazardjudge.register.migrations.guards import TABLES_0002, guard_tables, unguard_tables


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('spot_checks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('checked_on', sa.Date(), nullable=False),
    sa.Column('inspectors', sa.JSON(), nullable=False),
    sa.Column('remarks', sa.Text(), nullable=True),
    sa.Column('inspection_id', sa.Integer(), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('voided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('void_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_spot_checks_created_by_users')),
    sa.ForeignKeyConstraint(['inspection_id'], ['inspections.id'], name=op.f('fk_spot_checks_inspection_id_inspections')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_spot_checks_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_spot_checks'))
    )
    with op.batch_alter_table('spot_checks', schema=None) as batch_op:
        batch_op.create_index('ix_spot_checks_unit_id_checked_on', ['unit_id', 'checked_on'], unique=False)

    op.create_table('spot_check_answers',
    sa.Column('spot_check_id', sa.Integer(), nullable=False),
    sa.Column('item', sa.String(length=64), nullable=False),
    sa.Column('answer', sa.Enum('yes', 'no', 'unknown', name='answer', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.ForeignKeyConstraint(['spot_check_id'], ['spot_checks.id'], name=op.f('fk_spot_check_answers_spot_check_id_spot_checks')),
    sa.PrimaryKeyConstraint('spot_check_id', 'item', name=op.f('pk_spot_check_answers'))
    )

    guard_tables(op.get_bind(), TABLES_0002)


def downgrade() -> None:
    unguard_tables(op.get_bind(), TABLES_0002)
    op.drop_table('spot_check_answers')
    with op.batch_alter_table('spot_checks', schema=None) as batch_op:
        batch_op.drop_index('ix_spot_checks_unit_id_checked_on')

    op.drop_table('spot_checks')
