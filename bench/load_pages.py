"""Load test: 20 people at once on the staff home, the work lists and the API, against gunicorn.

Run with ``.venv/bin/python bench/load_pages.py`` against PostgreSQL: ``BENCH_DATABASE_URL``
(default ``postgres://postgres@127.0.0.1:5432/carm_bench``; the database is created if missing and
its tables rebuilt, as for every benchmark). It seeds the demo data plus ``LOAD_IMPORTERS``
importers, starts gunicorn on loopback as the production image does (the Dockerfile's
``WEB_CONCURRENCY`` workers unless ``LOAD_WORKERS`` says otherwise, ``DEBUG`` off), signs a broker
agent in by a session cookie (with an authenticator app, as two-factor authentication requires),
then runs ``LOAD_USERS`` threads (20) for ``LOAD_SECONDS`` (30) after a short warm-up, each going
round the pages and API lists below as fast as the server answers. Bounded: it stops by itself.

Prints, per URL and in all: requests, throughput, median, p95 and worst latency, and errors (any
answer but 200, or no answer). Target (issue 19): 0 errors, p95 <= 300 ms. Exits 1 on any error,
so a page that fails under concurrency fails ``make``; a missed latency target is printed, not
fatal (the 2-core machine is shared).
"""

from __future__ import annotations

import http.client
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "carm_portal.settings")
os.environ["DATABASE_URL"] = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/carm_bench"
)

from bench.common import create_accounts, fresh_database, print_table  # noqa: E402

USERS = int(os.environ.get("LOAD_USERS", "20"))
SECONDS = float(os.environ.get("LOAD_SECONDS", "30"))
WARM_UP_SECONDS = 3.0


def image_workers() -> int:
    """The production image's gunicorn workers (the Dockerfile's ``WEB_CONCURRENCY``), so the
    load test measures what is deployed rather than a setting of its own."""
    import re

    found = re.search(r"WEB_CONCURRENCY=(\d+)", (ROOT / "Dockerfile").read_text())
    return int(found.group(1)) if found else 2 * (os.cpu_count() or 1) + 1


WORKERS = int(os.environ.get("LOAD_WORKERS") or image_workers())
IMPORTERS = int(os.environ.get("LOAD_IMPORTERS", "2000"))
P95_TARGET_MS = 300.0

URLS = [
    "/",  # the staff home (dashboard)
    "/clients/",
    "/delegations/",
    "/statements/",
    "/statements/reconciliation/",
    "/payments/",
    "/api/v1/importers/",
    "/api/v1/delegations/",
    "/api/v1/statements/",
]


def seed() -> str:
    """The data, and a broker agent's session key."""
    from importlib import import_module

    from allauth.mfa.models import Authenticator
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.models import Group
    from django.core.management import call_command

    from carm_portal.models import User

    call_command("seed_demo", verbosity=0)
    create_accounts(IMPORTERS, series=8, name="Load")
    user = User.objects.create_user(email="load.agent@broker.example", password=None)
    user.groups.add(Group.objects.get_or_create(name="broker agent")[0])
    Authenticator.objects.create(
        user=user, type=Authenticator.Type.TOTP, data={"secret": "JBSWY3DPEHPK3PXP"}
    )
    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    assert session.session_key is not None
    return session.session_key


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_gunicorn(port: int, root: Path = ROOT, stderr: Any = None) -> subprocess.Popen:
    """gunicorn on loopback serving the checkout at ``root`` (this one unless comparing two)."""
    env = {**os.environ, "DEBUG": "false", "ALLOWED_HOSTS": "127.0.0.1,localhost"}
    process = subprocess.Popen(  # noqa: S603 (our own gunicorn, on loopback)
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "carm_portal.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(WORKERS),
            # The rest as the Dockerfile's CMD (its access log aside: it would time the terminal).
            "--worker-tmp-dir",
            "/dev/shm",  # noqa: S108 (as the image: heartbeat files in memory)
            "--log-level",
            "warning",
        ],
        cwd=root,
        env=env,
        stderr=stderr,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return process
        except OSError:
            time.sleep(0.3)
    process.kill()
    raise SystemExit("gunicorn did not start")


def get(host: str, port: int, path: str, cookie: str) -> bool:
    """One GET on a new connection (gunicorn's sync workers close every one), the whole body
    read: whether it answered 200. ``http.client`` rather than ``requests``: the client shares
    the 2 cores it measures, and requests spent 0.9 ms of CPU per page against its 0.3 ms."""
    connection = http.client.HTTPConnection(host, port, timeout=30)
    try:
        connection.request("GET", path, headers={"Cookie": cookie})
        response = connection.getresponse()
        response.read()
        return response.status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()


def run(
    base: str, session_key: str, *, seconds: float = SECONDS, warm_up: float = WARM_UP_SECONDS
) -> dict[str, list[tuple[float, bool]]]:
    """``USERS`` threads round ``URLS`` for ``seconds`` after ``warm_up``: each URL's
    (latency, answered 200) samples. The client's own CPU per request is printed, so what it
    takes from the server's cores is known."""
    from urllib.parse import urlsplit

    from django.conf import settings

    address = urlsplit(base)
    host, port = address.hostname or "127.0.0.1", address.port or 80
    cookie = f"{settings.SESSION_COOKIE_NAME}={session_key}"

    # gunicorn listens before its workers have loaded the app: wait until one answers a page.
    deadline = time.monotonic() + 120
    while not get(host, port, URLS[0], cookie):
        if time.monotonic() > deadline:
            raise SystemExit("The staff home never answered 200.")
        time.sleep(0.5)

    results: dict[str, list[tuple[float, bool]]] = defaultdict(list)
    lock = threading.Lock()
    start = time.monotonic() + warm_up
    stop = start + seconds

    def user(n: int) -> None:
        i = n
        while (now := time.monotonic()) < stop:
            url = URLS[i % len(URLS)]
            i += 1
            began = time.monotonic()
            ok = get(host, port, url, cookie)
            if now >= start:  # the warm-up fills caches and connections; not counted
                with lock:
                    results[url].append((time.monotonic() - began, ok))

    cpu = time.process_time()
    threads = [threading.Thread(target=user, args=(n,)) for n in range(USERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    cpu = time.process_time() - cpu
    done = sum(len(samples) for samples in results.values())
    if done:
        # Includes the warm-up's requests in the CPU, not in the count: an upper bound.
        print(f"load client: {cpu / done * 1000:.2f} ms of CPU per counted request")
    return results


def p95(values: list[float]) -> float:
    return (
        statistics.quantiles(values, n=20, method="inclusive")[-1] if len(values) > 1 else values[0]
    )


def main() -> None:
    fresh_database()
    session_key = seed()
    from django.db import connections

    connections.close_all()
    port = free_port()
    server = start_gunicorn(port)
    try:
        results = run(f"http://127.0.0.1:{port}", session_key)
    finally:
        server.terminate()
        server.wait(timeout=30)

    rows = []
    every: list[float] = []
    errors = 0
    for url in URLS:
        samples = results.get(url, [])
        times = [t for t, _ok in samples]
        bad = sum(1 for _t, ok in samples if not ok)
        errors += bad
        every += times
        if not times:
            rows.append([url, "0", "-", "-", "-", "-", "-"])
            continue
        rows.append(
            [
                url,
                str(len(times)),
                f"{len(times) / SECONDS:.1f}",
                f"{statistics.median(times) * 1000:.0f}",
                f"{p95(times) * 1000:.0f}",
                f"{max(times) * 1000:.0f}",
                str(bad),
            ]
        )
    overall = p95(every) * 1000 if every else float("inf")
    rows.append(
        [
            "all",
            str(len(every)),
            f"{len(every) / SECONDS:.1f}",
            f"{statistics.median(every) * 1000:.0f}" if every else "-",
            f"{overall:.0f}",
            f"{max(every) * 1000:.0f}" if every else "-",
            str(errors),
        ]
    )
    print_table(
        f"{USERS} users for {SECONDS:.0f} s, gunicorn x{WORKERS}, {IMPORTERS} extra importers",
        ["url", "requests", "req/s", "p50 ms", "p95 ms", "max ms", "errors"],
        rows,
    )
    met = errors == 0 and overall <= P95_TARGET_MS
    print(f"Target 0 errors and p95 <= {P95_TARGET_MS:.0f} ms: {'met' if met else 'MISSED'}.")
    if errors or not every:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
