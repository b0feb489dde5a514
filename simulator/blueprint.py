"""The blueprint of the simulated organisation: one "business unit" of six teams and 25
services, the people's names, job titles and notification styles.

Kinds drive the alert templates and the roles: databases and queues are storm roots,
APIs, workers and web front ends depend on them.
"""

from __future__ import annotations

# (team name, home time zone, other zones for follow-the-sun members, services)
# Each service: (name, kind, dependencies by name). Kinds drive the alert templates and roles:
# databases and queues are storm roots, apis/workers/web depend on them.
BLUEPRINT: list[tuple[str, str, tuple[str, ...], list[tuple[str, str, tuple[str, ...]]]]] = [
    (
        "Platform",
        "Europe/London",
        ("Asia/Kolkata",),
        [
            ("k8s-cluster", "platform", ()),
            ("ingress-gateway", "web", ("k8s-cluster",)),
            ("observability", "observability", ()),
            ("ci-cd", "ci", ()),
        ],
    ),
    (
        "Data",
        "Europe/Berlin",
        ("America/New_York",),
        [
            ("orders-db", "postgres", ()),
            ("users-db", "postgres", ()),
            ("cache-redis", "redis", ()),
            ("events-kafka", "kafka", ()),
        ],
    ),
    (
        "Payments",
        "America/New_York",
        ("America/Sao_Paulo",),
        [
            ("payments-api", "api", ("ledger-db", "payments-queue", "cache-redis")),
            ("payments-worker", "worker", ("payments-queue", "ledger-db")),
            ("ledger-db", "mysql", ()),
            ("payments-queue", "rabbitmq", ()),
        ],
    ),
    (
        "Checkout",
        "America/Los_Angeles",
        ("America/Chicago",),
        [
            ("checkout-api", "api", ("orders-db", "events-kafka", "payments-api")),
            ("cart-service", "api", ("cache-redis", "orders-db")),
            ("storefront-web", "web", ("checkout-api", "search-api", "ingress-gateway")),
            ("promotions-worker", "worker", ("events-kafka", "orders-db")),
        ],
    ),
    (
        "Search & Discovery",
        "Australia/Adelaide",
        ("Asia/Kolkata",),
        [
            ("search-api", "api", ("search-index", "catalog-db")),
            ("search-index", "search", ()),
            ("recommendations", "worker", ("events-kafka", "catalog-db")),
            ("catalog-db", "mongodb", ()),
        ],
    ),
    (
        "Identity",
        "Europe/Paris",
        ("Asia/Singapore", "Europe/Madrid"),
        [
            ("auth-api", "api", ("users-db", "sessions-redis", "events-kafka")),
            ("sessions-redis", "redis", ()),
            ("notifications-worker", "worker", ("events-kafka", "users-db")),
            ("user-profile-api", "api", ("users-db", "events-kafka")),
            ("sso-gateway", "web", ("auth-api",)),
        ],
    ),
]

TEAM_SIZES = (7, 7, 6, 7, 6, 7)  # 40 people per business unit
UNIT_SUFFIXES = ("", "EU", "US", "APAC", "LATAM", "UK", "DACH", "Nordics", "India", "Japan")
STORM_ROOT_KINDS = {"postgres", "mysql", "redis", "mongodb", "kafka", "rabbitmq"}

FIRST_NAMES = (
    "Aisha",
    "Ben",
    "Chloé",
    "Dmitri",
    "Elena",
    "Farid",
    "Grace",
    "Hiroshi",
    "Ingrid",
    "Jamal",
    "Kavya",
    "Liam",
    "Mei",
    "Nikolai",
    "Olivia",
    "Priya",
    "Quentin",
    "Rosa",
    "Sven",
    "Tariq",
    "Uma",
    "Victor",
    "Wen",
    "Ximena",
    "Yusuf",
    "Zoe",
    "Arjun",
    "Beatriz",
    "Carlos",
    "Dana",
    "Emeka",
    "Fatima",
    "Gabriel",
    "Hana",
    "Ivan",
    "Julia",
    "Kenji",
    "Laura",
    "Mateo",
    "Nadia",
    "Oscar",
    "Paula",
    "Rahul",
    "Sofia",
    "Tom",
    "Valentina",
    "William",
    "Yara",
    "Ahmed",
    "Lena",
)
LAST_NAMES = (
    "Okafor",
    "Schmidt",
    "Dubois",
    "Ivanova",
    "Rossi",
    "Haddad",
    "Kim",
    "Tanaka",
    "Larsen",
    "Brown",
    "Iyer",
    "Murphy",
    "Chen",
    "Petrov",
    "Smith",
    "Sharma",
    "Martin",
    "Garcia",
    "Berg",
    "Aziz",
    "Nair",
    "Novak",
    "Wang",
    "López",
    "Demir",
    "Taylor",
    "Patel",
    "Souza",
    "Ruiz",
    "Cohen",
    "Adeyemi",
    "Khan",
    "Moreau",
    "Sato",
    "Kowalski",
    "Fischer",
    "Ito",
    "Wilson",
    "Fernández",
    "Ali",
    "Nilsson",
    "Costa",
    "Gupta",
    "Johansson",
    "Walsh",
    "Romero",
    "Evans",
)
JOB_TITLES = (
    "Site Reliability Engineer",
    "Senior Software Engineer",
    "Software Engineer",
    "Staff Engineer",
    "Platform Engineer",
    "Database Reliability Engineer",
    "Engineering Manager",
)

# Notification plans (high urgency): (seconds after assignment, notification type).
# Styles seen in real accounts: app push first then escalating to SMS/phone; phone-first people.
NOTIFICATION_STYLES: tuple[tuple[tuple[int, str], ...], ...] = (
    (
        (0, "push_notification"),
        (0, "email_notification"),
        (2, "sms_notification"),
        (30, "push_notification"),
        (300, "phone_notification"),
    ),
    (
        (0, "push_notification"),
        (0, "email_notification"),
        (60, "push_notification"),
        (90, "phone_notification"),
    ),
    (
        (0, "sms_notification"),
        (0, "email_notification"),
        (120, "phone_notification"),
        (600, "phone_notification"),
    ),
    ((0, "phone_notification"), (0, "email_notification"), (45, "sms_notification")),
    (
        (0, "push_notification"),
        (3, "sms_notification"),
        (0, "email_notification"),
        (180, "sms_notification"),
    ),
)
LOW_URGENCY_STYLE: tuple[tuple[int, str], ...] = (
    (0, "email_notification"),
    (0, "push_notification"),
)


def units_for_scale(scale: float) -> list[tuple[int, int]]:
    """(unit index, number of blueprint teams) per business unit for a scale factor."""
    n_services = max(4, round(25 * scale))
    units: list[tuple[int, int]] = []
    remaining = n_services
    unit = 0
    while remaining > 0:
        teams = 0
        for _name, _zone, _others, services in BLUEPRINT:
            if remaining <= 0:
                break
            teams += 1
            remaining -= len(services)
        units.append((unit, teams))
        unit += 1
    return units


def pick_format(rng, kind: str) -> str:
    """Which monitoring tool pages for a service, weighted like a typical k8s shop on AWS:
    Prometheus (Alertmanager) or Grafana alerting for workloads in the cluster, CloudWatch for
    managed data stores, external uptime checks for web front ends (docs/grouping.md,
    "Structured identity", gives the resulting shares)."""
    if kind in ("platform", "api", "worker", "observability", "kafka", "redis"):
        choices = (
            "alertmanager",
            "alertmanager",
            "alertmanager_legacy",
            "alertmanager_summary",
            "datadog",
            "grafana",
        )
    elif kind in ("postgres", "mysql", "mongodb", "rabbitmq", "search"):
        choices = ("datadog", "alertmanager_summary", "alertmanager", "nagios", "cloudwatch")
    elif kind == "ci":
        choices = ("alertmanager_summary", "email")
    else:
        choices = ("datadog", "alertmanager", "alertmanager_summary", "uptimerobot", "cloudwatch")
    return rng.choice(choices)
