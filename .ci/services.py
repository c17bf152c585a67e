"""Check (and for PostgreSQL, prepare) the services CI runs against; exit non-zero if unreachable.

Usage: services.py postgres redis
"""

from __future__ import annotations

import os
import sys
from urllib.parse import urlsplit


def check_postgres() -> None:
    import psycopg

    url = os.environ["DATABASE_URL"]
    parts = urlsplit(url)
    dbname = parts.path.lstrip("/")
    admin_url = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [dbname]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{dbname}"')
            print(f"created database {dbname}")
    with psycopg.connect(url, connect_timeout=5) as conn:
        version = conn.execute("SHOW server_version").fetchone()[0]
    print(f"PostgreSQL {version} at {parts.hostname}:{parts.port or 5432}/{dbname}")


def check_redis() -> None:
    import redis

    url = os.environ["REDIS_URL"]
    client = redis.Redis.from_url(url, socket_connect_timeout=5)
    client.ping()
    print(f"Redis {client.info()['redis_version']} at {url}")


CHECKS = {"postgres": check_postgres, "redis": check_redis}

if __name__ == "__main__":
    failed = False
    for name in sys.argv[1:]:
        try:
            CHECKS[name]()
        except Exception as exc:
            print(f"ERROR: {name} is unreachable: {exc}", file=sys.stderr)
            failed = True
    sys.exit(1 if failed else 0)
