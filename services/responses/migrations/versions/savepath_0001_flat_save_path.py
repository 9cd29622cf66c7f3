"""A save path whose cost does not grow with the number of organisations.

- `survey_participant`: one row per survey and participating organisation, kept by
  `repository.upsert_survey` beside `survey.participants`, so "does this organisation take
  part" is an index lookup instead of reading (and decoding) the whole array on every
  request.
- `national_range`: per survey, the (min, max) of every numeric counted answer (the
  national range plausibility compares next year's answers with), computed once and kept
  until a submission of that survey changes. Triggers on `response_submission` (and on
  `response`, for a cascade) bump `generation` in the writer's transaction; the ranges are
  fresh while `computed_generation = generation`. Readers recompute a stale survey once
  (`repository.national_ranges`), guarded by the generation they read, so several
  replicas recomputing at once store the same result and none stores an outdated one.

Revision ID: savepath_0001
Revises: 0050
Create Date: 2026-11-29
"""

from alembic import op

revision = "savepath_0001"
down_revision = "0050"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE survey_participant (
            survey_id        uuid NOT NULL REFERENCES survey (id) ON DELETE CASCADE,
            organisation_id  uuid NOT NULL,
            PRIMARY KEY (survey_id, organisation_id)
        );
        INSERT INTO survey_participant (survey_id, organisation_id)
        SELECT DISTINCT s.id, p.organisation_id
        FROM survey s CROSS JOIN LATERAL unnest(s.participants) AS p (organisation_id);

        CREATE TABLE national_range (
            survey_id            uuid PRIMARY KEY,
            -- bumped by every change to the survey's submissions (triggers below)
            generation           bigint NOT NULL DEFAULT 1,
            -- the generation `ranges` were computed at; fresh while equal to generation
            computed_generation  bigint NULL,
            -- {"question": [min, max]} of every numeric counted answer
            ranges               jsonb NULL
        );
        INSERT INTO national_range (survey_id)
        SELECT DISTINCT r.survey_id
        FROM response r JOIN response_submission s ON s.response_id = r.id;

        CREATE FUNCTION national_range_changed() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_TABLE_NAME = 'response' THEN
                INSERT INTO national_range (survey_id)
                SELECT DISTINCT o.survey_id FROM old_rows o
                ON CONFLICT (survey_id)
                DO UPDATE SET generation = national_range.generation + 1;
            ELSIF TG_OP = 'DELETE' THEN
                INSERT INTO national_range (survey_id)
                SELECT DISTINCT r.survey_id
                FROM old_rows o JOIN response r ON r.id = o.response_id
                ON CONFLICT (survey_id)
                DO UPDATE SET generation = national_range.generation + 1;
            ELSE
                INSERT INTO national_range (survey_id)
                SELECT DISTINCT r.survey_id
                FROM new_rows n JOIN response r ON r.id = n.response_id
                ON CONFLICT (survey_id)
                DO UPDATE SET generation = national_range.generation + 1;
            END IF;
            RETURN NULL;
        END
        $$;
        CREATE TRIGGER national_range_submission_inserted
            AFTER INSERT ON response_submission REFERENCING NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION national_range_changed();
        CREATE TRIGGER national_range_submission_updated
            AFTER UPDATE ON response_submission REFERENCING NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION national_range_changed();
        CREATE TRIGGER national_range_submission_deleted
            AFTER DELETE ON response_submission REFERENCING OLD TABLE AS old_rows
            FOR EACH STATEMENT EXECUTE FUNCTION national_range_changed();
        CREATE TRIGGER national_range_response_deleted
            AFTER DELETE ON response REFERENCING OLD TABLE AS old_rows
            FOR EACH STATEMENT EXECUTE FUNCTION national_range_changed();
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP TRIGGER national_range_response_deleted ON response;
        DROP TRIGGER national_range_submission_deleted ON response_submission;
        DROP TRIGGER national_range_submission_updated ON response_submission;
        DROP TRIGGER national_range_submission_inserted ON response_submission;
        DROP FUNCTION national_range_changed();
        DROP TABLE national_range;
        DROP TABLE survey_participant;
        """
    )
