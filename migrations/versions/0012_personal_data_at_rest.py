"""personal data at rest: ID-number mask hint (first + last character only); inbound message bodies, answers,
prepared payloads encrypted (existing rows encrypted here); body hash and purge time for retention

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 07:30:00

Existing rows are encrypted with the field key the app uses (`YGT_FIELD_KEY`, else `DATA_DIR/field_key`), so run
it with the same settings as the app (`ygt migrate` does). Downgrading decrypts them again.
"""
import hashlib

import sqlalchemy as sa
from alembic import context, op
from sqlalchemy.dialects import postgresql

import app.core.db

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

events = sa.table('inbound_events', sa.column('id', sa.Integer), sa.column('body', sa.Text),
                  sa.column('response', sa.Text), sa.column('result', sa.Text),
                  sa.column('body_sha256', sa.String))


def _field_key() -> str:
    from app.config import Settings
    return context.config.attributes.get("field_key") or Settings.from_env().field_key


def _rewrite(conn, convert) -> None:
    """Apply `convert` to the text columns of every inbound event, in batches (the key is read only if needed)."""
    last, key = 0, None
    while True:
        rows = conn.execute(sa.select(events).where(events.c.id > last).order_by(events.c.id).limit(500)).all()
        if not rows:
            return
        key = key or _field_key()
        for row in rows:
            values = {c: convert(getattr(row, c), key) for c in ('body', 'response', 'result')}
            if row.body is not None and row.body_sha256 is None and not row.body.startswith('enc1:'):
                values['body_sha256'] = hashlib.sha256(row.body.encode('utf-8', 'surrogatepass')).hexdigest()
            conn.execute(events.update().where(events.c.id == row.id).values(**values))
        last = rows[-1].id


def _seal(value, key):
    from app.core.crypto import seal
    return value if value is None or value.startswith('enc1:') else seal(value, key)


def _unseal(value, key):
    from app.core.crypto import unseal
    return None if value is None else unseal(value, key)


def upgrade() -> None:
    with op.batch_alter_table('residents') as batch:
        batch.add_column(sa.Column('id_number_hint', sa.String(length=2), nullable=True))
    op.execute("UPDATE residents SET id_number_hint = substr(id_number_prefix, 1, 1) || substr(id_number_last4, 4, 1)")
    with op.batch_alter_table('residents') as batch:
        batch.alter_column('id_number_hint', existing_type=sa.String(length=2), nullable=False)
        batch.drop_column('id_number_prefix')
        batch.drop_column('id_number_last4')

    is_pg = op.get_bind().dialect.name == 'postgresql'
    with op.batch_alter_table('inbound_events') as batch:
        batch.add_column(sa.Column('body_sha256', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('purged_at', app.core.db.UTCDateTime(timezone=True), nullable=True))
        batch.alter_column('body', existing_type=sa.Text(), nullable=True)
        for name in ('response', 'result'):
            batch.alter_column(name, type_=sa.Text(), existing_nullable=True,
                               existing_type=postgresql.JSONB() if is_pg else sa.JSON(),
                               postgresql_using=f'{name}::text')
    _rewrite(op.get_bind(), _seal)


def downgrade() -> None:
    _rewrite(op.get_bind(), _unseal)
    is_pg = op.get_bind().dialect.name == 'postgresql'
    op.execute("UPDATE inbound_events SET body = '' WHERE body IS NULL")
    with op.batch_alter_table('inbound_events') as batch:
        for name in ('response', 'result'):
            batch.alter_column(name, type_=postgresql.JSONB() if is_pg else sa.JSON(), existing_type=sa.Text(),
                               existing_nullable=True, postgresql_using=f'{name}::jsonb')
        batch.alter_column('body', existing_type=sa.Text(), nullable=False)
        batch.drop_column('purged_at')
        batch.drop_column('body_sha256')

    with op.batch_alter_table('residents') as batch:
        batch.add_column(sa.Column('id_number_prefix', sa.String(length=4), nullable=True))
        batch.add_column(sa.Column('id_number_last4', sa.String(length=4), nullable=True))
    # the full number is encrypted; the old clear prefix/last-four cannot be rebuilt without the key in SQL, so the
    # mask shows only what the hint kept until the app re-derives them
    op.execute("UPDATE residents SET id_number_prefix = substr(id_number_hint, 1, 1), "
               "id_number_last4 = substr(id_number_hint, 2, 1)")
    with op.batch_alter_table('residents') as batch:
        batch.alter_column('id_number_prefix', existing_type=sa.String(length=4), nullable=False)
        batch.alter_column('id_number_last4', existing_type=sa.String(length=4), nullable=False)
        batch.drop_column('id_number_hint')
