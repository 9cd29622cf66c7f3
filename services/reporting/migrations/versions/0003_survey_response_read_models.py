"""Read models of surveys (every frozen questionnaire version) and counted submissions.

Filled from surveys' and responses' events only. Library-level data: no column names a
person; free-text answers are kept only where the questionnaire publishes them.

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
        -- Surveys as published. Events may overtake each other (a questionnaire version or
        -- a close before the publication), so every fact but the id is nullable.
        CREATE TABLE survey (
            id                      uuid PRIMARY KEY,
            series_key              text NULL,
            title                   text NULL,
            description             text NULL,
            opens_at                timestamptz NULL,
            closes_at               timestamptz NULL,
            participants            uuid[] NOT NULL DEFAULT '{}',
            closed_at               timestamptz NULL,
            -- envelope time of the facts event applied last; an older one never overwrites
            source_time             timestamptz NULL
        );

        -- Every published questionnaire version, frozen (bibmon_common.questionnaire JSON).
        CREATE TABLE questionnaire_version (
            survey_id      uuid NOT NULL,
            version        integer NOT NULL CHECK (version >= 1),
            questionnaire  jsonb NOT NULL,
            PRIMARY KEY (survey_id, version)
        );

        -- Every submission reporting has heard of, and whether it was returned. A
        -- `returned` event may arrive before its `submitted` event: then answers is NULL.
        -- answers holds only what reporting may keep (no unpublished free text).
        CREATE TABLE response_submission (
            response_id            uuid NOT NULL,
            submission             integer NOT NULL CHECK (submission >= 1),
            survey_id              uuid NOT NULL,
            organisation_id        uuid NOT NULL,
            questionnaire_version  integer NULL,
            submitted_at           timestamptz NULL,
            answers                jsonb NULL,
            returned_at            timestamptz NULL,
            PRIMARY KEY (response_id, submission)
        );
        CREATE INDEX response_submission_org_idx
            ON response_submission (survey_id, organisation_id);

        -- The counted submission per (survey, organisation): the latest one with answers
        -- that was not returned. Derived from response_submission on every change.
        CREATE TABLE counted_response (
            survey_id              uuid NOT NULL,
            organisation_id        uuid NOT NULL,
            response_id            uuid NOT NULL,
            submission             integer NOT NULL,
            submitted_at           timestamptz NOT NULL,
            questionnaire_version  integer NOT NULL,
            answers                jsonb NOT NULL,
            PRIMARY KEY (survey_id, organisation_id)
        );
        CREATE INDEX counted_response_org_idx ON counted_response (organisation_id);

        -- The counted numeric answers, one row per (survey, question, organisation): the
        -- benchmark statistics run over this table in SQL.
        CREATE TABLE answer_numeric (
            survey_id        uuid NOT NULL,
            question_key     text NOT NULL,
            organisation_id  uuid NOT NULL,
            value            double precision NOT NULL,
            PRIMARY KEY (survey_id, question_key, organisation_id)
        );
        CREATE INDEX answer_numeric_org_idx ON answer_numeric (survey_id, organisation_id);

        -- The counted choice answers (single, multiple; yes_no as 'true'/'false'), one row
        -- per chosen option.
        CREATE TABLE answer_choice (
            survey_id        uuid NOT NULL,
            question_key     text NOT NULL,
            organisation_id  uuid NOT NULL,
            option           text NOT NULL,
            PRIMARY KEY (survey_id, question_key, organisation_id, option)
        );
        CREATE INDEX answer_choice_org_idx ON answer_choice (survey_id, organisation_id);
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP TABLE answer_choice, answer_numeric, counted_response, response_submission,
            questionnaire_version, survey;
        """
    )
