"""`python -m tests.pg_available URL`: exit 0 when a PostgreSQL server answers at URL."""

from __future__ import annotations

import sys

import sqlalchemy as sa


def answers(url: str) -> bool:
    try:
        engine = sa.create_engine(url, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:
        return False


if __name__ == "__main__":
    sys.exit(0 if answers(sys.argv[1]) else 1)
