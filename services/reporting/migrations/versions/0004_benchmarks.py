"""Computed benchmark figures per survey, and the report-ready announcements.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        -- One row per survey with counted data. Every change to the counted submissions
        -- bumps change_seq; the computation records the change_seq it started from, so a
        -- survey needs computing while computed_seq < change_seq (debounced, any replica).
        CREATE TABLE benchmark_state (
            survey_id     uuid PRIMARY KEY,
            change_seq    bigint NOT NULL DEFAULT 1,
            computed_seq  bigint NOT NULL DEFAULT 0,
            changed_at    timestamptz NOT NULL DEFAULT now(),
            computed_at   timestamptz NULL,
            -- counted submissions nationally at the last computation
            counted       integer NOT NULL DEFAULT 0,
            -- the numeric question keys the last computation numbered (benchmark_rank.slots)
            numeric_keys  text[] NOT NULL DEFAULT '{}'
        );
        CREATE INDEX benchmark_state_dirty_idx ON benchmark_state (changed_at)
            WHERE computed_seq < change_seq;

        -- Figures of one comparison group for one numeric question. measure: 'value' (the
        -- answer) or 'per_1000' (per 1,000 inhabitants). group_kind: national (group_key
        -- ''), province (the province), size_class (the size class key). Quartiles are
        -- PostgreSQL's percentile_cont (linear interpolation between closest ranks).
        CREATE TABLE benchmark_numeric (
            survey_id     uuid NOT NULL,
            question_key  text NOT NULL,
            measure       text NOT NULL CHECK (measure IN ('value', 'per_1000')),
            group_kind    text NOT NULL CHECK (group_kind IN ('national', 'province', 'size_class')),
            group_key     text NOT NULL,
            n             integer NOT NULL,
            mean          double precision NOT NULL,
            median        double precision NOT NULL,
            q1            double precision NOT NULL,
            q3            double precision NOT NULL,
            min           double precision NOT NULL,
            max           double precision NOT NULL,
            PRIMARY KEY (survey_id, question_key, measure, group_kind, group_key)
        );

        -- Each organisation's percentile ranks (0-100, ties count half) in its three groups.
        -- One row per organisation, so a computation writes thousands of rows, not
        -- millions: slots[i] = q * 2 + m names question benchmark_state.numeric_keys[q]
        -- (1-based) and measure m (0 value, 1 per_1000); national[i], province[i],
        -- size_class[i] are the ranks there (province, size_class NULL without such group).
        CREATE TABLE benchmark_rank (
            survey_id        uuid NOT NULL,
            organisation_id  uuid NOT NULL,
            slots            integer[] NOT NULL,
            national         double precision[] NOT NULL,
            province         double precision[] NULL,
            size_class       double precision[] NULL,
            PRIMARY KEY (survey_id, organisation_id)
        );

        -- Choice and yes/no answers per group: n organisations answered, count chose option.
        CREATE TABLE benchmark_choice (
            survey_id     uuid NOT NULL,
            question_key  text NOT NULL,
            group_kind    text NOT NULL,
            group_key     text NOT NULL,
            option        text NOT NULL,
            n             integer NOT NULL,
            count         integer NOT NULL,
            PRIMARY KEY (survey_id, question_key, group_kind, group_key, option)
        );

        -- reporting.report.ready.v1 sent for (survey, organisation): at most once, ever.
        -- Not a read model: a rebuild keeps it, so nobody is told twice.
        CREATE TABLE report_ready (
            survey_id        uuid NOT NULL,
            organisation_id  uuid NOT NULL,
            computed_at      timestamptz NOT NULL,
            announced_at     timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (survey_id, organisation_id)
        );
        """
    )


def downgrade() -> None:
    op.execute(
        "DROP TABLE report_ready, benchmark_choice, benchmark_rank, benchmark_numeric,"
        " benchmark_state"
    )
