"""Alert texts from real Prometheus rule templates, filled with realistic label values.

The rules (awesome-prometheus-alerts and kube-prometheus) ship with pagerlens in
``data/alert_rules.json``, derived from the original collections by
:mod:`simulator.derive_rules` (attribution in ``data/NOTICE.md``). Nothing is read from
outside the package, so the same seed gives the same account from any copy of pagerlens.

Each rendered alert keeps the template it came from, so clustering can be scored against it,
and is shaped the way the sending tool formats it: Alertmanager's default PagerDuty summary
(``[FIRING:n] <group labels> (<common labels>)``), Alertmanager configured to send the summary
annotation, Datadog monitor titles, Nagios service problems and e-mail subjects; CloudWatch
alarms through SNS, Grafana alerting and Uptime Robot monitors in :mod:`simulator.formats`.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from functools import lru_cache

from simulator.derive_rules import RULES_FILE
from simulator.formats import OTHER_FORMATS

# Rule file folder (awesome-prometheus-alerts) or kube-prometheus manifest per component kind.
KIND_SOURCES: dict[str, tuple[str, ...]] = {
    "postgres": ("postgresql", "pgbouncer", "patroni", "host-and-hardware"),
    "mysql": ("mysql", "host-and-hardware"),
    "mongodb": ("mongodb", "host-and-hardware"),
    "redis": ("redis",),
    "kafka": ("kafka", "zookeeper", "jvm"),
    "rabbitmq": ("rabbitmq",),
    "search": ("elasticsearch", "opensearch"),
    "api": ("kubernetes", "kubernetesControlPlane", "blackbox", "envoy", "golang", "istio"),
    "worker": ("kubernetes", "kubernetesControlPlane", "jvm", "python", "sidekiq"),
    "web": ("nginx", "blackbox", "ssl", "haproxy", "traefik", "cert-manager"),
    "platform": (
        "host-and-hardware",
        "nodeExporter",
        "kubernetesControlPlane",
        "etcd",
        "coredns",
        "cilium",
    ),
    "observability": ("prometheus-self-monitoring", "prometheus", "alertmanager", "loki", "thanos"),
    "ci": ("gitlab-ci", "jenkins", "argocd"),
}

_SLOT = re.compile(r"\{\{(.*?)\}\}")
_LABEL = re.compile(r"\$labels\.([A-Za-z_][A-Za-z0-9_]*)")


@dataclass(frozen=True)
class Rule:
    """One alert rule: a template id, its name, severity and the compiled summary template."""

    template_id: str
    alert: str
    severity: str
    source: str  # rule file folder or manifest
    summary_template: str
    parts: tuple  # literal strings and ("label", name) / ("value", fmt) / ("labels",) slots
    labels: tuple[str, ...]  # label names used by the template


def _compile(template: str) -> tuple[tuple, tuple[str, ...]]:
    parts: list = []
    labels: list[str] = []
    pos = 0
    for m in _SLOT.finditer(template):
        parts.append(template[pos : m.start()])
        body = m.group(1)
        lab = _LABEL.search(body)
        if lab:
            parts.append(("label", lab.group(1)))
            labels.append(lab.group(1))
        elif "$value" in body:
            if "Percentage" in body:
                parts.append(("value", "pct"))
            elif "humanize" in body:
                parts.append(("value", "human"))
            else:
                parts.append(("value", "num"))
        elif "$labels" in body:
            parts.append(("labels",))
        # Other template actions ({{ if }}, {{ end }}, ...) render as nothing.
        pos = m.end()
    parts.append(template[pos:])
    return tuple(p for p in parts if p != ""), tuple(dict.fromkeys(labels))


@lru_cache(maxsize=1)
def load_rules() -> tuple[Rule, ...]:
    """Every packaged rule, compiled, in file order (the order decides the account)."""
    doc = json.loads(RULES_FILE.read_text(encoding="utf-8"))
    rules = []
    for r in doc["rules"]:
        summary = r["summary_template"]
        parts, labels = _compile(summary)
        tid = hashlib.sha1(f"{r['source']}|{r['alert']}|{summary}".encode()).hexdigest()[:12]
        rules.append(
            Rule(
                template_id=tid,
                alert=r["alert"],
                severity=r["severity"],
                source=r["source"],
                summary_template=summary,
                parts=parts,
                labels=labels,
            )
        )
    return tuple(rules)


def rules_for_kind(kind: str, rules: tuple[Rule, ...]) -> list[Rule]:
    """The rules a component of this kind would fire, falling back to all rules."""
    wanted = KIND_SOURCES.get(kind, ())
    picked = [r for r in rules if r.source in wanted]
    return picked or list(rules)


def _severity(sev: str) -> str:
    """PagerDuty alert severities are info/warning/error/critical."""
    if sev in ("critical", "page", "emergency"):
        return "critical"
    if sev in ("info", "none", "informational"):
        return "info"
    if sev == "error":
        return "error"
    return "warning"


class LabelMaker:
    """Realistic label values for one service (hosts, pods, namespaces, numbers)."""

    def __init__(self, service_name: str, namespace: str, kind: str, rng) -> None:
        self.service = service_name
        self.namespace = namespace
        self.kind = kind
        base = service_name.split("-")[0]
        self.hosts = [f"{base}-{kind}-{i:02d}" for i in range(1, rng.randint(3, 9))]
        self.ips = [
            f"10.{rng.randint(0, 63)}.{rng.randint(0, 255)}.{rng.randint(2, 254)}"
            for _ in self.hosts
        ]
        self.replicaset = f"{rng.getrandbits(36):09x}"
        self.port = {
            "postgres": 9187,
            "mysql": 9104,
            "redis": 9121,
            "mongodb": 9216,
            "kafka": 9308,
            "rabbitmq": 15692,
            "search": 9114,
        }.get(kind, 9100)

    def labels(self, names: tuple[str, ...], rng) -> dict[str, str]:
        """One alert instance's labels: a host, pod and the names the template asks for.

        ``rng`` is the caller's (per chunk) so values never depend on earlier chunks.
        """
        h = rng.randrange(len(self.hosts))
        pod = f"{self.service}-{self.replicaset}-{''.join(rng.choices('bcdfghjklmnpqrstvwxz2456789', k=5))}"
        out = {
            "alertname": "",
            "namespace": self.namespace,
            "service": self.service,
            "instance": f"{self.ips[h]}:{self.port}",
            "pod": pod,
            "job": self.service,
            "host": self.hosts[h],
        }
        for name in names:
            if name not in out:
                out[name] = self._value(name, h, rng)
        return out

    def _value(self, name: str, h: int, rng) -> str:
        n = name.lower()
        if n in ("node", "nodename", "hostname", "kubernetes_node", "server", "host_name"):
            return f"ip-{self.ips[h].replace('.', '-')}.eu-west-1.compute.internal"
        if n in (
            "container",
            "container_name",
            "app",
            "deployment",
            "daemonset",
            "statefulset",
            "job_name",
            "workload",
            "name",
            "exported_job",
        ):
            return self.service
        if n in ("device", "disk"):
            return rng.choice(("/dev/nvme0n1", "/dev/nvme1n1", "/dev/sda1", "/dev/xvdf"))
        if n in ("mountpoint", "path"):
            return rng.choice(("/", "/var/lib/data", "/var/log", "/var/lib/kubelet"))
        if n in ("queue", "queue_name"):
            return rng.choice(("payments.events", "orders.created", "email.send", "audit.log"))
        if n in ("topic",):
            return rng.choice(("orders", "payments", "user-events", "clickstream"))
        if n in ("consumergroup", "group"):
            return rng.choice(("billing-consumer", "search-indexer", "notifier", "analytics"))
        if n in ("datname", "database", "db", "schema"):
            return self.service.split("-")[0]
        if n in ("persistentvolumeclaim", "pvc"):
            return f"data-{self.service}-{rng.randint(0, 2)}"
        if n in ("cluster", "cluster_name"):
            return rng.choice(("prod-eu-1", "prod-us-1", "prod-ap-1"))
        if n in ("reason",):
            return rng.choice(("CrashLoopBackOff", "OOMKilled", "ImagePullBackOff", "Error"))
        if n in ("phase",):
            return rng.choice(("Pending", "Unknown", "Failed"))
        if n in ("code", "status_code", "status"):
            return rng.choice(("500", "502", "503", "504"))
        if n in ("project", "repository", "repo"):
            return f"acme/{self.service}"
        if n in ("ref", "branch"):
            return rng.choice(("main", "release/2.14", "main"))
        if n in ("endpoint", "url", "target", "path"):
            return f"https://{self.service}.acme.example/health"
        if n in ("integration", "controller", "kind"):
            return rng.choice(("Deployment", "StatefulSet", "DaemonSet"))
        if n in ("le", "quantile"):
            return rng.choice(("0.99", "0.95", "0.5"))
        return f"{n}-{rng.randint(1, 12)}"

    def value(self, fmt: str, rng) -> str:
        """A number for a ``{{ $value }}`` slot, formatted as the template's function would."""
        if fmt == "pct":
            return f"{rng.uniform(80, 99.9):.4g}%"
        if fmt == "human":
            return f"{rng.uniform(1, 999):.4g}{rng.choice(('', 'k', 'M'))}"
        return f"{rng.uniform(0.5, 1000):.4g}"


def fill(rule: Rule, labels: dict[str, str], maker: LabelMaker, rng) -> str:
    """The rule's summary with its slots filled from labels (a fresh number per $value)."""
    out = []
    for p in rule.parts:
        if isinstance(p, str):
            out.append(p)
        elif p[0] == "label":
            out.append(labels.get(p[1], ""))
        elif p[0] == "value":
            out.append(maker.value(p[1], rng))
        else:
            out.append("map[" + " ".join(f"{k}:{v}" for k, v in sorted(labels.items()) if v) + "]")
    return "".join(out).strip()


def render_alert(
    rule: Rule,
    labels: dict[str, str],
    maker: LabelMaker,
    fmt: str,
    started: str,
    rng,
    n_firing: int = 1,
) -> tuple[str, dict, str]:
    """(summary, custom details, pagerduty severity) as the sending tool would format them."""
    text = fill(rule, labels, maker, rng)
    severity = _severity(rule.severity)
    if fmt.startswith("alertmanager"):
        summary, details = _alertmanager(rule, labels, text, fmt, started, n_firing)
    elif fmt == "datadog":
        summary = f"[Triggered on {{host:{labels['host']}}}] {text}"
        details = {
            "event_type": "query_alert_monitor",
            "alert_transition": "Triggered",
            "monitor_id": int(hashlib.md5(rule.template_id.encode()).hexdigest()[:7], 16),
            "host": labels["host"],
            "tags": f"env:prod,service:{labels['service']},team:{labels['namespace']}",
            "body": text,
            "priority": "normal",
        }
    elif fmt == "nagios":
        summary = f"{rule.alert} on {labels['host']} is CRITICAL"
        details = {
            "HOSTNAME": labels["host"],
            "SERVICEDESC": rule.alert,
            "SERVICESTATE": "CRITICAL",
            "SERVICEOUTPUT": text,
        }
    elif fmt in OTHER_FORMATS:
        summary, details = OTHER_FORMATS[fmt](rule, labels, maker, text, started, rng)
    else:  # email
        summary = f"Alert: {text}"
        details = {"from": "alerts@monitoring.acme.example", "subject": summary, "body": text}
    return summary[:1024], details, severity


def _alertmanager(
    rule: Rule, labels: dict[str, str], text: str, fmt: str, started: str, n_firing: int
) -> tuple[str, dict]:
    """Alertmanager's PagerDuty receiver: the default description or the summary annotation,
    details as v0.30+ sends them (``alertmanager``, ``alertmanager_summary``) or as text
    (``alertmanager_legacy``)."""
    full_labels = dict(labels, alertname=rule.alert, severity=rule.severity)
    if fmt == "alertmanager_summary":
        # description: '[{{ .Status | toUpper }}:{{ .Alerts.Firing | len }}] {{ .CommonAnnotations.summary }}'
        summary = f"[FIRING:{n_firing}] {text}"
    else:
        # Alertmanager's default: group labels (alertname, namespace) then the other
        # common labels, sorted by label name.
        group = f"{rule.alert} {labels['namespace']}"
        others = " ".join(
            v for k, v in sorted(full_labels.items()) if k not in ("alertname", "namespace") and v
        )
        summary = f"[FIRING:{n_firing}] {group} ({others})"
    alert_obj = {
        "status": "firing",
        "labels": full_labels,
        "annotations": {"summary": text, "description": text},
        "startsAt": started,
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": f"http://prometheus.monitoring.svc:9090/graph?g0.expr={rule.alert}",
        "fingerprint": hashlib.md5(json.dumps(full_labels, sort_keys=True).encode()).hexdigest()[
            :16
        ],
    }
    if fmt == "alertmanager_legacy":
        # Before Alertmanager v0.30 every custom detail is a string.
        firing = "Labels:\n" + "".join(f" - {k} = {v}\n" for k, v in sorted(full_labels.items()))
        firing += f"Annotations:\n - summary = {text}\nSource: {alert_obj['generatorURL']}\n"
        details = {
            "firing": firing,
            "num_firing": str(n_firing),
            "num_resolved": "0",
            "resolved": "",
        }
    else:
        details = {"firing": [alert_obj], "num_firing": n_firing, "num_resolved": 0, "resolved": []}
    return summary, details
