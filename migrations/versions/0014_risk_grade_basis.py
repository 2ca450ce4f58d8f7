"""risk grade basis: the readings a grade used, who set it (grading | clinician), the automatic proposal and the
clinician's re-assessment; grading_states serializes re-grading per (resident, disease) (issue 12.1, 12.2)

Revision ID: 0014
Revises: 0015
Create Date: 2026-12-03 19:50:00
"""
import sqlalchemy as sa
from alembic import op

import app.core.db

revision = '0014'
down_revision = '0015'
branch_labels = None
depends_on = None

COLUMNS = ('basis', 'source', 'proposed_level', 'overruled_level', 'reassessed_by', 'reassessed_reason')


def upgrade() -> None:
    with op.batch_alter_table('risk_levels') as batch:
        batch.add_column(sa.Column('basis', app.core.db.JSONType, nullable=False, server_default=sa.text("'{}'")))
        batch.add_column(sa.Column('source', sa.String(length=20), nullable=False, server_default=sa.text("'grading'")))
        batch.add_column(sa.Column('proposed_level', sa.String(length=20), nullable=True))
        batch.add_column(sa.Column('overruled_level', sa.String(length=20), nullable=True))
        batch.add_column(sa.Column('reassessed_by', sa.String(length=120), nullable=True))
        batch.add_column(sa.Column('reassessed_reason', sa.Text(), nullable=True))
    op.create_table('grading_states',
    sa.Column('resident_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('disease', sa.String(length=30), nullable=False),
    sa.Column('inputs', app.core.db.JSONType, nullable=False),
    sa.Column('instance_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('recorded_instance_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('dirty', sa.Boolean(), nullable=False),
    sa.Column('updated_at', app.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('resident_id', 'disease', name=op.f('pk_grading_states'))
    )


def downgrade() -> None:
    op.drop_table('grading_states')
    with op.batch_alter_table('risk_levels') as batch:
        for name in reversed(COLUMNS):
            batch.drop_column(name)
