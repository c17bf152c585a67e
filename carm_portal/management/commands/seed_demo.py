"""``manage.py seed_demo``: load the demo broker team and importers (idempotent, DEV ONLY)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TextIO, cast

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.test import override_settings

from carm_portal.demo.seed import DemoSummary, demo_totp_code, seed_demo


class Command(BaseCommand):
    help = (
        "Create demo data: a broker team, client groups and ~30 importers at every stage of CARM "
        "onboarding, with logins that share one published password. Safe to run again: it only "
        "adds what is missing and puts back what was changed. For development only."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run even with DJANGO_ENV=production (creates logins with a published password).",
        )
        parser.add_argument(
            "--code",
            action="store_true",
            help="Only print the demo broker staff's current two-factor code (changes every 30 s).",
        )

    def handle(
        self, *args: object, force: bool = False, code: bool = False, **options: Any
    ) -> None:
        if code:
            self.stdout.write(demo_totp_code())
            return
        if settings.DJANGO_ENV == "production" and not force:
            raise CommandError(
                "Refusing to load demo data: DJANGO_ENV is production. The demo creates logins "
                "(a superuser among them) whose password is published. Run it against a "
                "development database, or pass --force if you really mean it."
            )
        # OutputWrapper is a TextIOBase, which the stubs do not count as a TextIO; demo only writes.
        stdout = cast(TextIO, self.stdout)
        # The demo's sign-ups, bookings and invitations go to made-up addresses: their e-mails
        # (sent when the seeding commits) are dropped rather than sent or printed.
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
            summary = seed_demo(stdout=stdout if options.get("verbosity", 1) > 1 else None)
        if options.get("verbosity", 1) > 0:
            self._report(summary)

    def _report(self, summary: DemoSummary) -> None:
        write = self.stdout.write
        changes = []
        if summary.created:
            changes.append(f"created {_counts(summary.created)}")
        if summary.updated:
            changes.append(f"updated {_counts(summary.updated)}")
        if summary.confirmed:
            changes.append(f"checklist steps confirmed: {summary.confirmed}")
        changed = "; ".join(changes) or "already up to date, nothing changed"

        write(self.style.SUCCESS(f"Demo data: {changed}."))
        write(f"  {_counts(summary.counts)}")
        progress = ", ".join(f"{done}/7: {n}" for done, n in summary.progress.items())
        write(f"  onboarding (steps done: importers): {progress}; blocked: {summary.blocked}")
        write("")
        width = max(len(login.email) for login in summary.logins)
        role_width = max(len(login.role) for login in summary.logins)
        write(self.style.MIGRATE_HEADING("Demo logins (DEV ONLY) at http://127.0.0.1:8000/"))
        write(f"  {'email':<{width}}  {'role':<{role_width}}  importer")
        for login in summary.logins:
            write(f"  {login.email:<{width}}  {login.role:<{role_width}}  {login.importer}")
        write(self.style.WARNING(f"  Password for every demo login: {summary.password}"))
        write(
            self.style.WARNING(
                "  Broker staff also need a two-factor code: add the secret "
                f"{summary.totp_secret} to an authenticator app,"
            )
        )
        write(
            self.style.WARNING(
                "  or run `.venv/bin/python manage.py seed_demo --code` for the current one."
            )
        )


def _counts(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{label}: {n}" for label, n in counts.items())
