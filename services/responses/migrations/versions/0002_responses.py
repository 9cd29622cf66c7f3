"""Surveys as the responses service knows them, responses, answers and submission history.

Keyed by survey and organisation only: no column names a user, and none holds a name or
an e-mail address (a test checks information_schema).

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
        -- A copy of the surveys service's facts, filled from its events. Events may arrive
        -- out of order: a close may come before the publication, so every fact column but
        -- the id is nullable; a survey counts as published once it has its facts and at
        -- least one questionnaire version.
        CREATE TABLE survey (
            id            uuid PRIMARY KEY,
            series_key    text NULL,
            opens_at      timestamptz NULL,
            closes_at     timestamptz NULL,
            participants  uuid[] NOT NULL DEFAULT '{}',
            -- set once by surveys.survey.closed.v1 (at closes_at, or earlier by hand)
            closed_at     timestamptz NULL,
            -- envelope time of the facts event last applied; an older one never overwrites
            source_time   timestamptz NULL
        );
        CREATE INDEX survey_series_idx ON survey (series_key, opens_at)
            WHERE series_key IS NOT NULL;

        -- Every published questionnaire version, frozen; a response is validated against
        -- the version it was started on.
        CREATE TABLE questionnaire_version (
            survey_id      uuid NOT NULL,
            version        integer NOT NULL CHECK (version >= 1),
            questionnaire  jsonb NOT NULL,
            PRIMARY KEY (survey_id, version)
        );

        -- One response per survey and organisation, shared by all its staff.
        CREATE TABLE response (
            id                     uuid PRIMARY KEY,
            survey_id              uuid NOT NULL REFERENCES survey (id),
            organisation_id        uuid NOT NULL,
            status                 text NOT NULL CHECK (
                status IN ('draft', 'submitted', 'accepted', 'returned', 'reopened')),
            -- counts up with every save that changes an answer (optimistic concurrency)
            revision               integer NOT NULL DEFAULT 0,
            questionnaire_version  integer NOT NULL,
            -- number of the latest submission; 0 before the first
            submission             integer NOT NULL DEFAULT 0,
            submitted_at           timestamptz NULL,
            explanations           jsonb NOT NULL DEFAULT '{}'::jsonb,
            -- the researcher's note of the last return (about figures, never a person)
            remark                 text NULL,
            -- set by a reopen: the organisation may save and submit although the survey is
            -- closed, until the correction is accepted
            correction_open        boolean NOT NULL DEFAULT false,
            reopen_reason          text NULL,
            created_at             timestamptz NOT NULL,
            updated_at             timestamptz NOT NULL,
            UNIQUE (survey_id, organisation_id)
        );

        -- The current answers, one row per question ever saved; a cleared answer keeps
        -- its row (value NULL) so a stale save can still be told it changed.
        CREATE TABLE response_answer (
            response_id  uuid NOT NULL REFERENCES response (id) ON DELETE CASCADE,
            question     text NOT NULL,
            value        jsonb NULL,
            -- the response revision at which this answer last changed
            revision     integer NOT NULL,
            changed_at   timestamptz NOT NULL,
            PRIMARY KEY (response_id, question)
        );

        -- Every submitted version, as the researcher reviews it.
        CREATE TABLE response_submission (
            response_id            uuid NOT NULL REFERENCES response (id) ON DELETE CASCADE,
            submission             integer NOT NULL CHECK (submission >= 1),
            questionnaire_version  integer NOT NULL,
            answers                jsonb NOT NULL,
            explanations           jsonb NOT NULL DEFAULT '{}'::jsonb,
            warnings               jsonb NOT NULL DEFAULT '[]'::jsonb,
            submitted_at           timestamptz NOT NULL,
            review                 text NULL CHECK (review IN ('accepted', 'returned')),
            reviewed_at            timestamptz NULL,
            remark                 text NULL,
            PRIMARY KEY (response_id, submission)
        );
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP TABLE response_submission;
        DROP TABLE response_answer;
        DROP TABLE response;
        DROP TABLE questionnaire_version;
        DROP TABLE survey;
        """
    )
