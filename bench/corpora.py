"""Corpora and baselines for template mining, shared by the benchmarks and the tests.

- Real Prometheus alert rules (``realdata/alert_templates`` of the shared material:
  awesome-prometheus-alerts and kube-prometheus) with their ``{{ $labels.x }}`` /
  ``{{ $value }}`` slots filled with varied, realistic values (seeded): ``load_rules``,
  ``fill_template``, ``realdata_corpora`` (three shapes PagerDuty receives);
- the drain3 baseline (``drain3_templates``, its defaults or its example masking);
- the scores of a grouping against true labels (``score``, LogPAI's ``grouping_accuracy``).

Used by ``bench/bench_templates.py``, ``bench/bench_grouping.py`` and
``tests/etl/test_grouping_rules.py`` / ``test_grouping_loghub.py``; the benchmarks never import
``tests`` (tests/test_boundaries.py).
"""

from __future__ import annotations

import json
import os
import random
import re
from collections import defaultdict
from pathlib import Path

from sklearn.metrics import adjusted_rand_score, completeness_score, homogeneity_score

REPO = Path(__file__).resolve().parents[1]


def templates_dir() -> Path:
    """``realdata/alert_templates`` under ``$PAGERLENS_SHARED``, else under ``../shared``."""
    shared = Path(os.environ.get("PAGERLENS_SHARED") or REPO.parent / "shared")
    return shared / "realdata" / "alert_templates"


WORDS = {
    "namespace": [
        "default",
        "kube-system",
        "monitoring",
        "payments",
        "checkout",
        "ingress-nginx",
        "cert-manager",
        "logging",
        "search",
        "orders",
        "identity",
    ],
    "cluster": [
        "prod-eu-west-1",
        "prod-us-east-1",
        "staging-eu",
        "gke-main",
        "aks-prod-02",
        "k8s-core",
        "edge",
    ],
    "job": [
        "node-exporter",
        "kubelet",
        "apiserver",
        "prometheus-k8s",
        "blackbox",
        "postgres-exporter",
        "redis-exporter",
        "kube-state-metrics",
        "cadvisor",
        "mysqld",
    ],
    "device": ["sda1", "nvme0n1p1", "/dev/sdb", "dm-0", "xvda1", "eth0", "ens5", "sdc"],
    "mountpoint": ["/", "/var/lib/docker", "/data", "/var/log", "/home", "/mnt/disks/ssd0"],
    "workload": [
        "api",
        "web",
        "worker",
        "checkout",
        "payments-api",
        "search-indexer",
        "orders",
        "cart",
        "auth",
        "gateway",
        "notifier",
        "billing",
    ],
    "generic": [
        "primary",
        "replica",
        "main",
        "orders",
        "users",
        "events",
        "eu-west-1",
        "us-east-1",
        "frontend",
        "backend",
        "queue-a",
        "rack-12",
        "tenant-42",
    ],
}


def _pod(rng: random.Random) -> str:
    base = rng.choice(WORDS["workload"])
    if rng.random() < 0.3:
        return f"{base}-{rng.randint(0, 5)}"
    alphabet = "bcdfghjklmnpqrstvwxz2456789"
    return (
        f"{base}-{''.join(rng.choices('0123456789abcdef', k=rng.choice([9, 10])))}"
        f"-{''.join(rng.choices(alphabet, k=5))}"
    )


def _host(rng: random.Random, port: bool = True) -> str:
    kind = rng.randrange(4)
    suffix = f":{rng.choice([9100, 9090, 8080, 443, 5432, 6379, 9187])}" if port else ""
    if kind == 0:
        return f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}{suffix}"
    if kind == 1:
        return f"{rng.choice(WORDS['workload'])}-{rng.randint(1, 40)}.prod.example.com{suffix}"
    if kind == 2:
        return f"ip-10-{rng.randint(0, 255)}-{rng.randint(0, 255)}-{rng.randint(1, 254)}.ec2.internal{suffix}"
    return f"{rng.choice(['db', 'web', 'cache', 'node', 'worker'])}-{rng.randint(1, 99)}{suffix}"


def label_value(name: str, rng: random.Random) -> str:
    if name in ("instance", "hostname", "server", "target", "exporter", "proxy"):
        return _host(rng)
    if name in ("node", "master"):
        return _host(rng, port=False)
    if name in ("pod", "replica"):
        return _pod(rng)
    if name in ("namespace", "exported_namespace"):
        return rng.choice(WORDS["namespace"])
    if name in (
        "cluster",
        "source_cluster",
        "target_cluster",
        "envoy_cluster_name",
        "cassandra_cluster",
    ):
        return rng.choice(WORDS["cluster"])
    if name in ("job", "job_name", "jenkins_job", "cronjob"):
        return rng.choice(WORDS["job"])
    if name == "device":
        return rng.choice(WORDS["device"])
    if name == "mountpoint":
        return rng.choice(WORDS["mountpoint"])
    if name in (
        "deployment",
        "statefulset",
        "daemonset",
        "container",
        "service",
        "name",
        "horizontalpodautoscaler",
        "controller",
        "backend",
        "route",
        "groupname",
    ):
        return rng.choice(WORDS["workload"])
    if name in ("url", "base_url"):
        return f"https://{rng.choice(WORDS['workload'])}.example.com/api/v{rng.randint(1, 3)}"
    if name in ("id", "executor_id", "project_id", "dbinstance_identifier"):
        return rng.choice(
            [
                str(rng.randint(1, 99999)),
                f"{rng.choice(WORDS['workload'])}-{rng.randint(1, 99)}",
                "".join(rng.choices("0123456789abcdef", k=12)),
            ]
        )
    return rng.choice(WORDS["generic"])


def _value(filters: str, rng: random.Random) -> str:
    number = rng.choice([rng.uniform(0, 1), rng.uniform(1, 100), rng.uniform(100, 100000)])
    if "humanizePercentage" in filters:
        return f"{rng.uniform(0, 100):.4g}%"
    if "humanizeDuration" in filters:
        seconds = rng.randint(1, 400000)
        days, rest = divmod(seconds, 86400)
        hours, rest = divmod(rest, 3600)
        minutes, secs = divmod(rest, 60)
        parts = (
            [f"{days}d"] * bool(days)
            + [f"{hours}h"] * bool(hours)
            + [f"{minutes}m"] * bool(minutes)
            + [f"{secs}s"]
        )
        return " ".join(parts)
    if "humanize" in filters:
        return rng.choice([f"{number:.4g}", f"{number / 1000:.4g}k", f"{number / 1e6:.3g}M"])
    fmt = re.search(r'"%([0-9.]*)[fg]"', filters)
    if fmt:
        return f"{number:.{int(float(fmt.group(1) or '0.2').__str__().split('.')[-1] or 2)}f}"
    return rng.choice([str(int(number)), f"{number:.6g}", f"{number}"])


_SLOT = re.compile(r"\{\{-?\s*(.*?)\s*-?\}\}")


def fill_template(template: str, rng: random.Random) -> str:
    """One realistic rendering of a Prometheus annotation template."""
    with_value: list[str] = []

    def render(match: re.Match[str]) -> str:
        expression = match.group(1)
        if expression.startswith("with "):
            label = re.search(r"\$labels\.(\w+)", expression)
            with_value.append(label_value(label.group(1), rng) if label else "x")
            return ""
        if expression == "end":
            return ""
        if expression == ".":
            return with_value[-1] if with_value else ""
        label = re.search(r"\$labels\.(\w+)", expression)
        if label and "$value" not in expression and "query" not in expression:
            return label_value(label.group(1), rng)
        if "$labels }}" in match.group(0) or expression == "$labels":
            return "map[instance:" + _host(rng) + "]"
        return _value(expression, rng)

    return " ".join(_SLOT.sub(render, template).split())


def load_rules(folder: Path | None = None) -> list[dict]:
    """The Prometheus rules of ``folder`` (default: :func:`templates_dir`)."""
    folder = folder or templates_dir()
    rules = []
    for name in ("awesome_prometheus_alerts_rules.json", "kube_prometheus_rules.json"):
        data = json.loads((folder / name).read_text())
        rules.extend(data["rules"])
    return rules


def first_line(text: str | None) -> str:
    return (text or "").strip().split("\n")[0]


def alertmanager_summary(rule: dict, rng) -> str:
    """Alertmanager's default PagerDuty summary for one firing of ``rule``:
    ``[FIRING:n] <alertname> (<other label values> <severity>)``."""
    others = [
        label_value("instance", rng),
        rng.choice(WORDS["job"]),
        rng.choice(WORDS["namespace"]),
    ]
    return (
        f"[FIRING:{rng.randint(1, 6)}] {rule['alert']} "
        f"({' '.join(others)} {rule['severity'] or 'warning'})"
    )


def realdata_corpora(
    rules: list[dict], instances: int = 8, seed: int = 11
) -> dict[str, tuple[list[str], list[int]]]:
    """Filled alert texts with their rule index, in three shapes PagerDuty receives.

    - ``summary``: the rule's summary annotation (the Alertmanager ``summary`` a PagerDuty
      integration often uses as the incident title);
    - ``description``: the first line of the description annotation (more slots per text);
    - ``alertmanager``: Alertmanager's default PagerDuty description,
      ``[FIRING:n] <alertname> (<other common label values>)``.
    """
    rng = random.Random(seed)
    corpora: dict[str, tuple[list[str], list[int]]] = {}
    for shape in ("summary", "description", "alertmanager"):
        texts: list[str] = []
        labels: list[int] = []
        seen: dict[str, int] = {}
        for index, rule in enumerate(rules):
            if shape == "summary":
                template = rule["summary_template"] or ""
            elif shape == "description":
                template = first_line(rule["description_template"])
            else:
                template = ""
            # Rules whose static text is identical to another rule's are one alert type
            # for any text-only method; score them as one.
            key = template if shape != "alertmanager" else rule["alert"]
            if not key.strip():
                continue
            label = seen.setdefault(key, index)
            for _ in range(instances):
                if shape == "alertmanager":
                    text = alertmanager_summary(rule, rng)
                else:
                    text = fill_template(template, rng)
                texts.append(text)
                labels.append(label)
        corpora[shape] = (texts, labels)
    return corpora


def drain3_templates(texts: list[str], masked: bool) -> list[str]:
    """drain3 with its default parameters, optionally with the masking of its example config."""
    from drain3 import TemplateMiner
    from drain3.masking import MaskingInstruction
    from drain3.template_miner_config import TemplateMinerConfig

    config = TemplateMinerConfig()
    config.profiling_enabled = False
    if masked:
        # The masking list of drain3's example drain3.ini.
        config.masking_instructions = [
            MaskingInstruction(
                r"((?<=[^A-Za-z0-9])|^)(([0-9a-f]{2,}:){3,}([0-9a-f]{2,}))((?=[^A-Za-z0-9])|$)",
                "ID",
            ),
            MaskingInstruction(
                r"((?<=[^A-Za-z0-9])|^)(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})((?=[^A-Za-z0-9])|$)",
                "IP",
            ),
            MaskingInstruction(
                r"((?<=[^A-Za-z0-9])|^)([0-9a-f]{6,} ?){3,}((?=[^A-Za-z0-9])|$)", "SEQ"
            ),
            MaskingInstruction(
                r"((?<=[^A-Za-z0-9])|^)([0-9A-F]{4} ?){4,}((?=[^A-Za-z0-9])|$)", "SEQ"
            ),
            MaskingInstruction(r"((?<=[^A-Za-z0-9])|^)(0x[a-f0-9A-F]+)((?=[^A-Za-z0-9])|$)", "HEX"),
            MaskingInstruction(r"((?<=[^A-Za-z0-9])|^)([\-\+]?\d+)((?=[^A-Za-z0-9])|$)", "NUM"),
            MaskingInstruction(r"(?<=executed cmd )(\".+?\")", "CMD"),
        ]
    miner = TemplateMiner(config=config)
    cluster_ids = [miner.add_log_message(text)["cluster_id"] for text in texts]
    # Final templates: a cluster's template after all messages were seen.
    template_of = {c.cluster_id: c.get_template() for c in miner.drain.clusters}
    return [template_of[c] for c in cluster_ids]


def score(labels: list[int], templates: list[str]) -> dict[str, float]:
    """ARI, homogeneity, completeness, LogPAI grouping accuracy and the share of rules
    recovered exactly (the texts of the rule, and nothing else, share one template)."""
    predicted_members: dict[str, set[int]] = defaultdict(set)
    truth_members: dict[int, set[int]] = defaultdict(set)
    for i, (label, template) in enumerate(zip(labels, templates, strict=True)):
        predicted_members[template].add(i)
        truth_members[label].add(i)
    exact_rules = sum(
        1
        for members in truth_members.values()
        if predicted_members[templates[next(iter(members))]] == members
    )
    exact_messages = sum(
        len(members)
        for members in truth_members.values()
        if predicted_members[templates[next(iter(members))]] == members
    )
    return {
        "ari": adjusted_rand_score(labels, templates),
        "homogeneity": homogeneity_score(labels, templates),
        "completeness": completeness_score(labels, templates),
        "grouping_accuracy": exact_messages / len(labels),
        "rules_exact": exact_rules / len(truth_members),
        "rules": len(truth_members),
        "templates": len(predicted_members),
    }


def grouping_accuracy(truth: list[str], predicted: list[str]) -> float:
    """LogPAI's GA: the share of messages whose predicted group is exactly their true group."""
    score_ = score(list(pd_codes(truth)), predicted)
    return score_["grouping_accuracy"]


def pd_codes(values: list[str]) -> list[int]:
    codes: dict[str, int] = {}
    return [codes.setdefault(v, len(codes)) for v in values]
