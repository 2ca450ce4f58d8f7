"""one code for type 2 diabetes: `dm` (care plans, follow-up, education) becomes `t2dm` (the vocabulary's code)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 09:00:00

Running instances keep the data they were started with; services accept `dm` as an alias of `t2dm`
(`app.vocabulary.Disease("dm") is Disease.T2DM`).
"""
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

TABLES = ("care_plans", "follow_up_schedules", "follow_up_visits", "referral_requests", "education_items",
          "referrals")
PROCESSES = "('follow_up', 'care_plan')"


def upgrade() -> None:
    for table in TABLES:
        op.execute(f"UPDATE {table} SET disease = 't2dm' WHERE disease = 'dm'")
    op.execute("UPDATE human_tasks SET disease = 't2dm' WHERE disease = 'dm'")


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"UPDATE {table} SET disease = 'dm' WHERE disease = 't2dm'")
    op.execute(f"UPDATE human_tasks SET disease = 'dm' WHERE disease = 't2dm' AND process_id IN {PROCESSES}")
