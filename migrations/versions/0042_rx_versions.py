"""prescriptions: the lines of every version (prescription_versions) and an index for the drug filter (issue 18.1)

Revision ID: 0042
Revises: 0041
Create Date: 2026-12-04 16:10:00
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import app.core.db

revision = '0042'
down_revision = '0041'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql')


def upgrade() -> None:
    op.create_table('prescription_versions',
    sa.Column('id', BigId, autoincrement=True, nullable=False),
    sa.Column('prescription_id', BigId, nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('version_hash', sa.String(length=64), nullable=False),
    sa.Column('items', JSON, nullable=False),
    sa.Column('indication', sa.String(length=40), nullable=False),
    sa.Column('grade', sa.String(length=8), nullable=False),
    sa.Column('findings', JSON, nullable=False),
    sa.Column('author', sa.String(length=120), nullable=False),
    sa.Column('created_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_prescription_versions')),
    sa.UniqueConstraint('prescription_id', 'version', name='uq_prescription_versions_version')
    )
    # the current version of every prescription already received (earlier versions kept only their hash)
    op.execute(
        "INSERT INTO prescription_versions (prescription_id, version, version_hash, items, indication, grade, "
        "findings, author, created_at) "
        "SELECT p.id, p.version, COALESCE((SELECT s.version_hash FROM prescription_states s "
        "WHERE s.prescription_id = p.id AND s.version = p.version ORDER BY s.id DESC LIMIT 1), ''), "
        "p.items, p.indication, p.grade, p.findings, p.prescriber, p.updated_at FROM prescriptions p")
    with op.batch_alter_table('prescriptions', schema=None) as batch_op:
        batch_op.create_index('ix_prescriptions_items', ['items'], unique=False, postgresql_using='gin',
                              postgresql_ops={'items': 'jsonb_path_ops'})


def downgrade() -> None:
    with op.batch_alter_table('prescriptions', schema=None) as batch_op:
        batch_op.drop_index('ix_prescriptions_items', postgresql_using='gin',
                            postgresql_ops={'items': 'jsonb_path_ops'})
    op.drop_table('prescription_versions')
