"""Read model of the organisations (public master data from identity's events).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE organisation (
            id              uuid PRIMARY KEY,
            name            text NOT NULL,
            province        text NOT NULL,
            municipalities  text[] NOT NULL DEFAULT '{}',
            inhabitants     integer NOT NULL,
            size_class      text NOT NULL,
            -- time of the event that wrote this row: an older event never overwrites a newer one
            source_time     timestamptz NOT NULL
        );
        CREATE INDEX organisation_province_idx ON organisation (province);
        CREATE INDEX organisation_size_class_idx ON organisation (size_class);
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE organisation")
