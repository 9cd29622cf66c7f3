"""Open datasets of closed surveys, every published version kept.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        -- Every published version of a survey's open dataset, with its files as published
        -- (the bytes whose SHA-256 the export event and the catalogue give). Not a read
        -- model: a rebuild keeps what was published, so a version is never published twice.
        CREATE TABLE open_dataset (
            survey_id          uuid NOT NULL,
            version            integer NOT NULL CHECK (version >= 1),
            schema_version     integer NOT NULL,
            licence            text NOT NULL,
            row_count          integer NOT NULL,
            -- over the CSV and the dictionary: an unchanged dataset is not published again
            fingerprint        text NOT NULL,
            csv                bytea NOT NULL,
            json               bytea NOT NULL,
            dictionary         bytea NOT NULL,
            csv_sha256         text NOT NULL,
            json_sha256        text NOT NULL,
            dictionary_sha256  text NOT NULL,
            published_at       timestamptz NOT NULL,
            PRIMARY KEY (survey_id, version)
        );
        -- The files are tens of MB for a national survey: lz4 compresses them several
        -- times faster than the default pglz (a server built without lz4 keeps pglz).
        DO $$
        BEGIN
            ALTER TABLE open_dataset
                ALTER COLUMN csv SET COMPRESSION lz4,
                ALTER COLUMN json SET COMPRESSION lz4,
                ALTER COLUMN dictionary SET COMPRESSION lz4;
        EXCEPTION WHEN feature_not_supported THEN
            RAISE NOTICE 'lz4 not available: open_dataset keeps pglz';
        END
        $$;

        -- Per closed survey: the benchmark_state.changed_at its dataset was last checked
        -- against. A survey is due while the two differ (a rebuild refills
        -- benchmark_state with new times, so a rebuilt survey is checked again).
        CREATE TABLE open_data_state (
            survey_id        uuid PRIMARY KEY,
            seen_changed_at  timestamptz NOT NULL,
            checked_at       timestamptz NOT NULL
        );

        -- One row once a rebuild was requested: when a replayed event last arrived.
        -- Publication waits until the replay has been quiet for a while, so a read model
        -- that is still filling is never published as a new version.
        CREATE TABLE open_data_pause (
            singleton       boolean PRIMARY KEY DEFAULT true CHECK (singleton),
            replay_seen_at  timestamptz NOT NULL
        );
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE open_data_pause, open_data_state, open_dataset")
