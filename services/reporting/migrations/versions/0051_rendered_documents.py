"""Rendered infographics and reports, cached until the figures behind them change.

Revision ID: 0051
Revises: 0050
Create Date: 2026-11-29
"""

from alembic import op

revision = "0051"
down_revision = "0050"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        -- One rendering per organisation, survey, kind and locale: the one made from the
        -- figures computed at computed_at. A recomputation (a correction) gives a newer
        -- computed_at, and report_sha256 (over the report the bytes were drawn from) also
        -- catches what does not recompute the figures, such as a renamed organisation:
        -- either difference makes the next request render again and replace the row.
        CREATE TABLE rendered_document (
            survey_id        uuid NOT NULL,
            organisation_id  uuid NOT NULL,
            kind             text NOT NULL CHECK (kind IN ('svg', 'png', 'pdf', 'html')),
            locale           text NOT NULL,
            computed_at      timestamptz NOT NULL,
            report_sha256    text NOT NULL,
            body             bytea NOT NULL,
            rendered_at      timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (survey_id, organisation_id, kind, locale)
        );
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE rendered_document")
