"""E-mail jobs: one row per send_email command, the recipient kept only until delivery.

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
        CREATE TABLE email_job (
            id               uuid PRIMARY KEY,
            -- the producer's key: a redelivered or re-sent command inserts nothing
            idempotency_key  text NOT NULL UNIQUE,
            template         text NOT NULL,
            locale           text NOT NULL,
            -- personal data: set NULL after delivery, expiry, erasure or the failed grace period
            recipient_email  text NULL,
            recipient_name   text NULL,
            subject_user_id  uuid NULL,
            context          jsonb NULL,
            status           text NOT NULL DEFAULT 'pending'
                             CHECK (status IN ('pending', 'sent', 'failed', 'expired')),
            attempts         integer NOT NULL DEFAULT 0,
            next_attempt_at  timestamptz NOT NULL DEFAULT now(),
            last_error       text NULL,
            created_at       timestamptz NOT NULL DEFAULT now(),
            sent_at          timestamptz NULL,
            expires_at       timestamptz NULL,
            -- when the job left `pending`
            finished_at      timestamptz NULL,
            CONSTRAINT email_job_pending_has_recipient
                CHECK (status <> 'pending' OR recipient_email IS NOT NULL)
        );
        CREATE INDEX email_job_due_idx ON email_job (next_attempt_at) WHERE status = 'pending';
        CREATE INDEX email_job_status_idx ON email_job (status, created_at DESC);
        CREATE INDEX email_job_created_at_idx ON email_job (created_at);
        CREATE INDEX email_job_subject_user_idx ON email_job (subject_user_id)
            WHERE subject_user_id IS NOT NULL;
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE email_job")
