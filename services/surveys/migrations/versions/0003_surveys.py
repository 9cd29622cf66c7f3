"""Surveys, their frozen questionnaire versions and their resolved participants.

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
        CREATE TABLE survey (
            id                  uuid PRIMARY KEY,
            series_key          text NULL,
            title               text NOT NULL,
            description         text NOT NULL DEFAULT '',
            mandatory           boolean NOT NULL,
            legal_basis         text NULL CHECK (legal_basis IN ('wsob', 'subsidy')),
            legal_basis_name    text NULL,
            opens_at            timestamptz NOT NULL,
            closes_at           timestamptz NOT NULL,
            -- how participants are chosen: {"mode": "all" | "list" | "filter", ...}
            participants        jsonb NOT NULL,
            -- the draft questionnaire, or the latest published version's
            questionnaire       jsonb NULL,
            questionnaire_version integer NULL,
            created_at          timestamptz NOT NULL,
            updated_at          timestamptz NOT NULL,
            published_at        timestamptz NULL,
            closed_at           timestamptz NULL,
            closed_by_hand      boolean NULL,
            CONSTRAINT survey_dates CHECK (closes_at > opens_at),
            CONSTRAINT survey_legal_basis CHECK (
                (mandatory AND legal_basis IS NOT NULL)
                OR (NOT mandatory AND legal_basis IS NULL AND legal_basis_name IS NULL)
            ),
            CONSTRAINT survey_subsidy_named CHECK (
                legal_basis IS DISTINCT FROM 'subsidy' OR legal_basis_name IS NOT NULL
            ),
            CONSTRAINT survey_published_has_version CHECK (
                published_at IS NULL
                OR (questionnaire IS NOT NULL AND questionnaire_version >= 1)
            ),
            CONSTRAINT survey_closed_after_publish CHECK (
                closed_at IS NULL OR published_at IS NOT NULL
            )
        );
        CREATE INDEX survey_opens_at_idx ON survey (opens_at DESC, created_at DESC);
        CREATE INDEX survey_series_key_idx ON survey (series_key) WHERE series_key IS NOT NULL;
        -- the closer looks only at published surveys that are still open
        CREATE INDEX survey_due_idx ON survey (closes_at)
            WHERE published_at IS NOT NULL AND closed_at IS NULL;

        CREATE TABLE questionnaire_version (
            survey_id       uuid NOT NULL REFERENCES survey (id),
            version         integer NOT NULL CHECK (version >= 1),
            questionnaire   jsonb NOT NULL,
            published_at    timestamptz NOT NULL,
            PRIMARY KEY (survey_id, version)
        );

        -- Responses are validated against the exact version they started on: a published
        -- version is a fact, so the database refuses to change one.
        CREATE FUNCTION questionnaire_version_frozen() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'questionnaire versions are frozen (survey %, version %)',
                OLD.survey_id, OLD.version;
        END;
        $$;
        CREATE TRIGGER questionnaire_version_frozen
            BEFORE UPDATE ON questionnaire_version
            FOR EACH ROW EXECUTE FUNCTION questionnaire_version_frozen();

        CREATE TABLE survey_participant (
            survey_id       uuid NOT NULL REFERENCES survey (id),
            organisation_id uuid NOT NULL,
            PRIMARY KEY (survey_id, organisation_id)
        );
        CREATE INDEX survey_participant_organisation_idx
            ON survey_participant (organisation_id);
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP TABLE survey_participant;
        DROP TRIGGER questionnaire_version_frozen ON questionnaire_version;
        DROP TABLE questionnaire_version;
        DROP FUNCTION questionnaire_version_frozen();
        DROP TABLE survey;
        """
    )
