"""Survey e-mails: the notifier's read model of surveys and who has submitted, and jobs
whose recipient is a reference (survey, organisation) resolved with identity at send time.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        -- Facts of published surveys, from surveys.survey.published/updated/closed.v1.
        CREATE TABLE survey (
            survey_id        uuid PRIMARY KEY,
            title            text NOT NULL,
            description      text NOT NULL DEFAULT '',
            mandatory        boolean NOT NULL,
            legal_basis      text NULL,
            legal_basis_name text NULL,
            opens_at         timestamptz NOT NULL,
            closes_at        timestamptz NOT NULL,
            closed_at        timestamptz NULL,
            -- the notifier's clock when it invited the participants: reminders whose
            -- moment had already passed then are never sent (no burst after a late publish)
            invited_at       timestamptz NOT NULL,
            -- event time of the facts applied last; an older update never overwrites them
            facts_at         timestamptz NOT NULL
        );
        CREATE INDEX survey_open_idx ON survey (closes_at) WHERE closed_at IS NULL;

        -- One row per participating organisation: has it submitted (as things stand)?
        CREATE TABLE survey_participant (
            survey_id        uuid NOT NULL REFERENCES survey (survey_id) ON DELETE CASCADE,
            organisation_id  uuid NOT NULL,
            submitted        boolean NOT NULL DEFAULT false,
            -- time of the response event applied last (submitted/returned/reopened)
            status_at        timestamptz NULL,
            PRIMARY KEY (survey_id, organisation_id)
        );

        -- A survey e-mail names its recipient by reference only; identity answers the
        -- contact person's address at send time and it is never stored.
        ALTER TABLE email_job
            ADD COLUMN recipient_survey_id uuid NULL,
            ADD COLUMN recipient_organisation_id uuid NULL;
        ALTER TABLE email_job DROP CONSTRAINT email_job_status_check;
        ALTER TABLE email_job ADD CONSTRAINT email_job_status_check
            CHECK (status IN ('pending', 'sent', 'failed', 'expired', 'no_recipient'));
        ALTER TABLE email_job DROP CONSTRAINT email_job_pending_has_recipient;
        ALTER TABLE email_job ADD CONSTRAINT email_job_pending_has_recipient
            CHECK (status <> 'pending' OR recipient_email IS NOT NULL
                   OR recipient_organisation_id IS NOT NULL);
        ALTER TABLE email_job ADD CONSTRAINT email_job_reference_complete
            CHECK ((recipient_survey_id IS NULL) = (recipient_organisation_id IS NULL));
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DELETE FROM email_job WHERE recipient_organisation_id IS NOT NULL;
        ALTER TABLE email_job DROP CONSTRAINT email_job_reference_complete;
        ALTER TABLE email_job DROP CONSTRAINT email_job_pending_has_recipient;
        ALTER TABLE email_job ADD CONSTRAINT email_job_pending_has_recipient
            CHECK (status <> 'pending' OR recipient_email IS NOT NULL);
        ALTER TABLE email_job DROP CONSTRAINT email_job_status_check;
        ALTER TABLE email_job ADD CONSTRAINT email_job_status_check
            CHECK (status IN ('pending', 'sent', 'failed', 'expired'));
        ALTER TABLE email_job DROP COLUMN recipient_survey_id,
            DROP COLUMN recipient_organisation_id;
        DROP TABLE survey_participant, survey;
        """
    )
