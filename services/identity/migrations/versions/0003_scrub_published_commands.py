"""Published commands keep no link, address or name in the outbox (issue 10, item 5).

A `notifier.send_email.v1` row carries a set-password or reset link, the recipient's
address and name. Once the relay marks it published (or dropped as expired) the notifier
holds it, so the copy here only widens the exposure for the 7 days published rows are
kept. A trigger strips those fields in the same UPDATE that marks the row published, so
no code path (this service's or the kernel relay's) can forget it; a rolled-back mark
rolls the scrub back too and the row is published again intact.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        -- the payload without the data fields that grant access or name a person
        CREATE FUNCTION outbox_scrubbed(payload jsonb) RETURNS jsonb
        LANGUAGE sql IMMUTABLE AS $$
            SELECT jsonb_set(payload, '{data}',
                ((payload -> 'data') - ARRAY['recipient_email', 'recipient_name', 'context'])
                || '{"scrubbed": true}'::jsonb)
        $$;
        CREATE FUNCTION outbox_scrub_published_command() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            NEW.payload := outbox_scrubbed(NEW.payload);
            RETURN NEW;
        END
        $$;
        CREATE TRIGGER outbox_scrub_published_command
            BEFORE UPDATE OF published_at ON outbox
            FOR EACH ROW
            WHEN (OLD.published_at IS NULL AND NEW.published_at IS NOT NULL
                  AND NEW.exchange = 'bibmon.commands')
            EXECUTE FUNCTION outbox_scrub_published_command();
        UPDATE outbox SET payload = outbox_scrubbed(payload)
            WHERE published_at IS NOT NULL AND exchange = 'bibmon.commands';
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP TRIGGER IF EXISTS outbox_scrub_published_command ON outbox;
        DROP FUNCTION IF EXISTS outbox_scrub_published_command();
        DROP FUNCTION IF EXISTS outbox_scrubbed(jsonb);
        """
    )
