"""pagerlens live: PagerDuty webhooks v3 keep the published warehouse current (issue 15).

``pagerlens listen`` runs two parts over one on-disk spool (docs/live.md):

* :mod:`~etl.live.receiver`, an HTTP server that verifies each delivery's signature
  (:mod:`~etl.live.signature`), checks it is a v3 event (:mod:`~etl.live.events`) and commits
  it to the spool (:mod:`~etl.live.spool`) before answering 2xx;
* :mod:`~etl.live.worker`, which drains the spool, debounced, and applies the touched incidents
  through the sync's extract/load code and the same atomic publish (:mod:`~etl.live.apply`).
"""

from etl.live.apply import ApplyResult, LiveSession, NotSynced, apply_incidents
from etl.live.events import EventError, WebhookEvent, parse_event
from etl.live.receiver import Receiver
from etl.live.signature import WebhookSecret, read_webhook_secrets, sign, verify
from etl.live.spool import Spool, spool_path
from etl.live.worker import ApplyWorker

__all__ = [
    "ApplyResult",
    "ApplyWorker",
    "EventError",
    "LiveSession",
    "NotSynced",
    "Receiver",
    "Spool",
    "WebhookEvent",
    "WebhookSecret",
    "apply_incidents",
    "parse_event",
    "read_webhook_secrets",
    "sign",
    "spool_path",
    "verify",
]
