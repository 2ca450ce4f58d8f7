"""prescription pre-review: R6a legality (users.prescribing_privilege, prescriptions.legality) and the per-organisation
auto-pass switch per drug class (rx_auto_pass_settings) (issue 18.1)

Revision ID: 0043
Revises: 0042
Create Date: 2026-12-04 16:20:00
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import app.core.db

revision = '0043'
down_revision = '0042'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql')
PRESCRIBING_ROLES = ("village_doctor", "township_doctor", "county_specialist")


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('prescribing_privilege', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))
    # the doctors already on the platform hold 处方权 at their organisation, as a new doctor's account does
    roles = ", ".join(f"'{r}'" for r in PRESCRIBING_ROLES)
    op.execute(f"UPDATE users SET prescribing_privilege = true WHERE id IN "
               f"(SELECT user_id FROM user_roles WHERE role IN ({roles}))")
    with op.batch_alter_table('prescriptions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('legality', JSON, server_default=sa.text("'{}'"), nullable=False))
    op.create_table('rx_auto_pass_settings',
    sa.Column('id', BigId, autoincrement=True, nullable=False),
    sa.Column('org_code', sa.String(length=40), nullable=False),
    sa.Column('drug_class', sa.String(length=20), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('updated_by', sa.String(length=120), nullable=False),
    sa.Column('updated_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rx_auto_pass_settings')),
    sa.UniqueConstraint('org_code', 'drug_class', name='uq_rx_auto_pass_settings_org_class')
    )


def downgrade() -> None:
    op.drop_table('rx_auto_pass_settings')
    with op.batch_alter_table('prescriptions', schema=None) as batch_op:
        batch_op.drop_column('legality')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('prescribing_privilege')
