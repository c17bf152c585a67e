"""Whether any worker is running: the heartbeat each queue's worker records, and what staff see.

Beat sends ``carm_portal.tasks.heartbeat`` to every queue of ``WORKER_QUEUES`` each minute; the
worker that runs it records the time on that queue's row (``WorkerHeartbeat``). A queue whose row is
older than ``WORKER_HEARTBEAT_WARN_MINUTES`` (or missing) has no working worker, or no beat: either
way queued imports and reconciliations will wait, and staff are told so
(``templates/includes/worker_health.html``) instead of watching a "queued" job that never starts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from carm_portal.models import WorkerHeartbeat


def record_heartbeat(*, queue: str, hostname: str, now: dt.datetime | None = None) -> None:
    """Note that ``hostname`` ran the heartbeat job from ``queue`` (one row per queue)."""
    WorkerHeartbeat.objects.update_or_create(
        queue=queue[:100],
        defaults={"hostname": hostname[:255], "seen_at": now or timezone.now()},
    )


@dataclass(frozen=True)
class QueueHealth:
    queue: str
    seen_at: dt.datetime | None
    hostname: str
    ok: bool


@dataclass(frozen=True)
class WorkerHealth:
    """The heartbeat of each expected queue; ``ok`` when every one is recent enough."""

    queues: list[QueueHealth]
    warn_after: dt.timedelta

    @property
    def ok(self) -> bool:
        return all(queue.ok for queue in self.queues)

    @property
    def silent(self) -> list[QueueHealth]:
        """The queues no worker has answered on lately (or ever)."""
        return [queue for queue in self.queues if not queue.ok]

    @property
    def last_seen(self) -> dt.datetime | None:
        seen = [queue.seen_at for queue in self.queues if queue.seen_at is not None]
        return max(seen) if seen else None

    @property
    def warn_minutes(self) -> int:
        return int(self.warn_after.total_seconds() // 60)


def worker_health(*, now: dt.datetime | None = None) -> WorkerHealth:
    """The workers' health as of ``now``, in one query."""
    now = now or timezone.now()
    warn_after = dt.timedelta(minutes=settings.WORKER_HEARTBEAT_WARN_MINUTES)
    queues = list(settings.WORKER_QUEUES)
    rows = {row.queue: row for row in WorkerHeartbeat.objects.filter(queue__in=queues)}
    health = []
    for queue in queues:
        row = rows.get(queue)
        seen_at = row.seen_at if row else None
        health.append(
            QueueHealth(
                queue=queue,
                seen_at=seen_at,
                hostname=row.hostname if row else "",
                ok=seen_at is not None and now - seen_at <= warn_after,
            )
        )
    return WorkerHealth(queues=health, warn_after=warn_after)
