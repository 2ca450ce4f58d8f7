"""screening cases: no foreign key to residents; a trigger on residents deletes a deleted resident's cases (issue 23.4)

PostgreSQL checked the foreign key `screening_cases.resident_id → residents` for every case row a population run
inserts (an SPI `SELECT … FOR KEY SHARE` of the resident): 6 of the ≈ 16 µs of backend CPU a case row costs, ≈ 8 %
of a 1,000,000-resident run's CPU. The check protects nothing screening needs: a case is only ever written for a
resident the same transaction just read from `residents` (`app.screening.features.gather` joins them), and no
application code deletes a resident. What the key did beyond that was its ON DELETE CASCADE: deleting a resident
(an erasure, by hand) deleted their cases. A trigger on `residents` keeps exactly that — AFTER DELETE, in the
deleting statement's transaction; on PostgreSQL once per statement over its transition table, so erasing many
residents is one DELETE of cases. Inserting cases no longer pays anything for it; deleting residents pays what the
cascade did (`ix_screening_cases_resident` finds the cases). Declared in app/screening/models.py (the column).

SQLite recreates the table to drop the key (batch mode); the embedded scale makes that instant.

Revision ID: 0057
Revises: 0056
Create Date: 2026-12-06 11:00:00
"""
from alembic import op

revision = '0057'
down_revision = '0056'
branch_labels = None
depends_on = None

FK = 'fk_screening_cases_resident_id_residents'
TRIGGER = 'residents_delete_screening_cases'

PG_FUNCTION = f"""
CREATE FUNCTION {TRIGGER}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM screening_cases c USING deleted_residents d WHERE c.resident_id = d.id;
    RETURN NULL;
END
$$
"""
PG_TRIGGER = (f"CREATE TRIGGER {TRIGGER} AFTER DELETE ON residents REFERENCING OLD TABLE AS deleted_residents "
              f"FOR EACH STATEMENT EXECUTE FUNCTION {TRIGGER}()")
SQLITE_TRIGGER = (f"CREATE TRIGGER {TRIGGER} AFTER DELETE ON residents FOR EACH ROW "
                  "BEGIN DELETE FROM screening_cases WHERE resident_id = OLD.id; END")


def upgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.drop_constraint(FK, 'screening_cases', type_='foreignkey')
        op.execute(PG_FUNCTION)
        op.execute(PG_TRIGGER)
    else:
        with op.batch_alter_table('screening_cases') as batch_op:
            batch_op.drop_constraint(FK, type_='foreignkey')
        op.execute(SQLITE_TRIGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(f"DROP TRIGGER {TRIGGER} ON residents")
        op.execute(f"DROP FUNCTION {TRIGGER}()")
        # a case left behind by a resident deleted meanwhile would fail the key: the cascade would have deleted it
        op.execute("DELETE FROM screening_cases c WHERE NOT EXISTS (SELECT 1 FROM residents r WHERE r.id = c.resident_id)")
        op.create_foreign_key(FK, 'screening_cases', 'residents', ['resident_id'], ['id'], ondelete='CASCADE')
    else:
        op.execute(f"DROP TRIGGER {TRIGGER}")
        op.execute("DELETE FROM screening_cases WHERE resident_id NOT IN (SELECT id FROM residents)")
        with op.batch_alter_table('screening_cases') as batch_op:
            batch_op.create_foreign_key(FK, 'residents', ['resident_id'], ['id'], ondelete='CASCADE')
