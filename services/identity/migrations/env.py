"""Alembic environment: the shared kernel runs every service's migrations the same way."""

from bibmon_common.db import alembic_env_run

alembic_env_run()
