"""Template mining: unit cases, and grouping quality on real alert-rule templates vs drain3.

The real templates come from ``../shared/realdata/alert_templates`` (Prometheus rules of
awesome-prometheus-alerts and kube-prometheus). Their ``{{ $labels.x }}`` / ``{{ $value }}``
slots are filled here with varied, realistic values (seeded), and the templates mined from
the filled texts are scored against the rule each text came from.
"""

from __future__ import annotations

import json
import os
import random
import re
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import pytest
from sklearn.metrics import (
    adjusted_rand_score,
    completeness_score,
    homogeneity_score,
)

from etl.grouping import (
    _ADDRESS_VALUE,
    _PLAIN_VALUE,
    _mask_distinct,
    _tokenize,
    _tokens,
    mask_summary,
    mine_templates,
    template_id,
)

REPO = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("PAGERLENS_SHARED", REPO.parent / "shared"))
TEMPLATES_DIR = SHARED / "realdata" / "alert_templates"

needs_shared = pytest.mark.skipif(
    not TEMPLATES_DIR.exists(), reason="../shared/realdata/alert_templates not available"
)


# --- unit cases -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("summaries", "expected"),
    [
        (["Disk 91% full on db-7", "Disk 88% full on db-3"], "Disk <*> full on <*>"),
        (
            [
                "Host out of memory (instance 10.0.3.17:9100)",
                "Host out of memory (instance web-3.prod.example.com:9100)",
                "Host out of memory (instance ip-10-0-1-2.ec2.internal:9100)",
            ],
            "Host out of memory (instance <*>)",
        ),
        (
            [
                "Pod payments/api-7d9f8b6c4-x2k9p is crash looping",
                "Pod checkout/web-5f6d7c8b9-abcde is crash looping",
                "Pod search/worker-0 is crash looping",
            ],
            "Pod <*>/<*> is crash looping",
        ),
        (
            [
                "Certificate on node worker-3 expires in 3h 25m 4s",
                "Certificate on node worker-4 expires in 25m",
            ],
            "Certificate on node <*> expires in <*>",
        ),
        (
            [
                "Login failures for alice@example.com from 2001:db8::1",
                "Login failures for bob@example.org from 192.168.0.12",
            ],
            "Login failures for <*> from <*>",
        ),
        (
            [
                'Job "nightly-backup" failed: see https://ci.example.com/jobs/123',
                'Job "reindex" failed: see https://ci.example.com/jobs/9',
            ],
            'Job "<*>" failed: see <*>',
        ),
        (
            [
                "Request 3f2b8c1e-9a4d-4c7b-8e2f-1a2b3c4d5e6f timed out after 30s",
                "Request 0c9d7e6f-1111-4aaa-bbbb-123456789abc timed out after 2m",
            ],
            "Request <*> timed out after <*>",
        ),
        (
            ["Build v1.27.4-gke.100 rolled out", "Build 2.3.0 rolled out"],
            "Build <*> rolled out",
        ),
    ],
)
def test_variable_parts_become_wildcards(summaries: list[str], expected: str) -> None:
    assert set(mine_templates(summaries)) == {expected}


def test_different_alerts_stay_apart() -> None:
    """Words naming a different alert are not variables, even when the rest is identical."""
    summaries = [
        "Host unusual network throughput in (instance web-1:9100)",
        "Host unusual network throughput in (instance web-2:9100)",
        "Host unusual network throughput out (instance web-1:9100)",
        "Host unusual network throughput out (instance web-3:9100)",
        "High 5xx rate on checkout",
        "High 4xx rate on checkout",
        "Postgresql down (instance db-1:5432)",
        "Mysql down (instance db-1:3306)",
    ]
    templates = mine_templates(summaries)
    assert len(set(templates)) == 6
    assert templates[0] == templates[1] != templates[2] == templates[3]
    assert templates[4] != templates[5]


def test_word_values_become_wildcards_when_they_vary_enough() -> None:
    namespaces = ["payments", "checkout", "search", "identity"]
    summaries = [f"Deployment {ns}/api has too few replicas" for ns in namespaces]
    assert set(mine_templates(summaries)) == {"Deployment <*>/api has too few replicas"}
    # Two values only: kept apart (an over-split is safer than merging two alerts).
    assert len(set(mine_templates(summaries[:2]))) == 2


def test_deterministic_and_order_independent() -> None:
    rng = random.Random(3)
    summaries = [
        f"Disk {rng.randint(80, 99)}% full on db-{rng.randint(1, 9)}" for _ in range(50)
    ] + [f"Queue {q} backlog above {rng.randint(1, 900)}" for q in "abcdefg" * 3]
    first = dict(zip(summaries, mine_templates(summaries), strict=True))
    shuffled = summaries[:]
    rng.shuffle(shuffled)
    again = dict(zip(shuffled, mine_templates(shuffled), strict=True))
    assert first == again
    assert mine_templates([]) == []
    assert mine_templates(["", "Disk 9% full"]) == ["", "Disk <*> full"]


def test_template_id_is_stable() -> None:
    assert template_id("Disk <*> full on <*>") == template_id("Disk <*> full on <*>")
    assert template_id("a") != template_id("b")
    assert re.fullmatch(r"[0-9a-f]{16}", template_id("x"))


def test_mask_keeps_constants_with_digits() -> None:
    assert mask_summary("S3 bucket 5xx errors at p99") == "S3 bucket 5xx errors at p99"


def test_pod_suffix_shaped_like_a_duration_is_one_value() -> None:
    # "-2m47h" reads as a duration and "8f6c42a3a" as a hex id: the token becomes
    # "obs-us-<*>-<*>", whose closing ">" once passed for wrapping punctuation ("<*>>"),
    # splitting one alert type in two (375 of 1,437 templates on the 1M benchmark account).
    assert mask_summary("(obs-us-8f6c42a3a-2m47h)") == "(<*>)"
    assert mask_summary("<*>-x1 down") == "<*> down"
    pods = ["2m47h", "x2k9p", "5267s", "k7jjq"]
    summaries = [f"KubePodCrashLooping (web-7d9f8b6c4-{pod} warning)" for pod in pods]
    assert set(mine_templates(summaries)) == {"KubePodCrashLooping (<*> warning)"}


# --- the token cache of mine_templates must equal mask_summary ---------------------------------

_TRICKY_SUMMARIES = [
    'Job "nightly backup" failed on db-7',  # a quoted value spanning a space
    "Job 'reindex 2' failed, it's late",
    "Run `make test 3` failed",
    "Label team= payments-3 mismatch",  # "=\s?value" across a space
    "Label team=payments-3 key= 5 other=x",
    "Certificate on node worker-3 expires in 3h 25m 4s",  # compound duration across spaces
    "Lag 250ms 3s on api-7d9f8b6c4-x2k9p",
    "Pod auth-api-dach-3ee6cdf3a-29w6w restarted 5 times",  # pod hash that is a duration
    "Pod auth-api-dach-3ee6cdf3a-29w6w 5m ago",
    "Pod payments/api-7d9f8b6c4-x2k9p and db-0x1f and api-0x1f-zz",
    "Disk\t91%\n full on\u00a0db-7\u2003now\x1c ",
    "Host 10.0.3.17:9100 and 2001:db8::1 and aa:bb:cc:dd:ee:ff and aa-bb-cc-dd-ee-ff",
    "UUID 3f2b8c1e-9a4d-4c7b-8e2f-1a2b3c4d5e6f ended, id deadbeef12 and abcdef12-gz",
    "Path /var/lib/docker/x and /dev/sda1 at https://ci.example.com/jobs/123 by a@b.io",
    "Build v1.27.4-gke.100 and 2.3.0 rolled out, 1.5us and 7\u00b5s, 1d2h",
    "Value <*> and <*>-<*> and <<*>> and (web-3), and [FIRING:1] AwsEc2HighCpu(v1)",
    "Versions g-1d 1d-g h1-g9 g-5m 5m-g -5- x-5h - -- k8s S3 5xx p99",
    "Calendar Mon Jul May Sept words identity AwsEc2HighCpu dadmin2 node1 eth0 LOCAL(0), ()",
    "Values (10.0.3.17:9100), [web-3.prod.example.com:443] -12.5% +3 csdnimg.cn:80 <1 sec",
    "A NUL \x00 alone and gl\x00ued, 3h 25m",
]


def _random_summaries(seed: int, count: int) -> list[str]:
    """Summaries built from value shapes, pod-like tokens and odd characters, joined by assorted
    whitespace: cases where masking a token alone could differ from masking the whole text."""
    rng = random.Random(seed)
    pieces = [
        "3h", "25m", "4s", "250ms", "1.5us", "7\u00b5s", "1d2h", "10", "0x1f", "=", "a=b", "key=",
        "'", '"', "`", "'x y'", '"a b"', "don't", "10.0.3.17:9100", "2001:db8::1", "aa:bb:cc:dd:ee:ff",
        "3f2b8c1e-9a4d-4c7b-8e2f-1a2b3c4d5e6f", "deadbeef12", "https://x.io/a?b=1", "a@b.com",
        "/var/log", "/a/b/c", "ns/api-2", "v1.2.3", "91%", "5Gi", "5xx", "p99", "k8s", "AwsEc2HighCpu",
        "db-7", "ip-10-0-3-17", "web-3.prod.example.com", "(web-3),", "<*>", "-", "\u0663\u0664", "in",
    ]  # fmt: skip
    spaces = [" ", " ", " ", "  ", "\t", "\n", "\xa0", "\u2003", "\x1c", ""]
    letters = "abcdefghijklmnopqrstuvwxyz0123456789"

    def token() -> str:
        roll = rng.random()
        if roll < 0.4:
            return rng.choice(pieces)
        if roll < 0.8:  # pod-like: words of random letters and digits joined by "-"
            words = rng.randint(1, 5)
            return "-".join(
                "".join(rng.choices(letters, k=rng.randint(0, 6))) for _ in range(words)
            )
        if roll < 0.9:
            return "".join(rng.choices(pieces, k=2))
        return "".join(rng.choices(letters + "-._:/=@'\"`()[]<>*%", k=rng.randint(1, 8)))

    return [
        "".join(token() + rng.choice(spaces) for _ in range(rng.randint(1, 10)))
        for _ in range(count)
    ]


def test_token_cache_agrees_with_mask_summary() -> None:
    """mine_templates masks through a per-token cache; it must equal masking whole summaries."""
    summaries = list(dict.fromkeys(_TRICKY_SUMMARIES + _random_summaries(seed=5, count=20_000)))
    summaries = [s for s in summaries if s]
    cached = _mask_distinct(summaries)
    mismatches = [
        (s, cached[s], mask_summary(s)) for s in summaries if cached[s] != mask_summary(s)
    ]
    assert mismatches == []


def test_plain_value_tokens_mask_to_wildcard() -> None:
    """The shortcut "this token masks to <*>" of the token cache, against mask_summary."""
    rng = random.Random(9)
    alphabets = ["0123456789abcdef", "abcdefghijklmnopqrstuvwxyz0123456789", "0123456789nsumhdwyx"]
    tokens = {
        "-".join(
            "".join(rng.choices(rng.choice(alphabets), k=rng.randint(0, 7)))
            for _ in range(rng.randint(1, 6))
        )
        for _ in range(60_000)
    }
    plain = [t for t in tokens if _PLAIN_VALUE.fullmatch(t)]
    assert len(plain) > 5_000  # the shortcut is exercised
    assert [t for t in plain if mask_summary(t) != "<*>"] == []
    for pod in ("payments-api-7d9f8b6c4-x2k9p", "search-index-uk-19dc71aea-2t5kh", "node-x9k2p"):
        assert _PLAIN_VALUE.fullmatch(pod)
    for value in ("api-5m", "db-0x1f", "a-deadbeef12", "abcdef-12", "k8s", "web-3.prod"):
        assert not _PLAIN_VALUE.fullmatch(value)


def test_address_tokens_mask_to_wildcard() -> None:
    """The shortcut for numbers, IPv4 addresses and host:port tokens, against mask_summary."""
    rng = random.Random(13)
    label_chars = "abcdef0123456789-xyzmshdw"

    def core() -> str:
        kind = rng.randrange(4)
        if kind == 0:
            return (
                rng.choice(["", "-", "+"])
                + str(rng.randint(0, 10 ** rng.randint(1, 12)))
                + rng.choice(["", f".{rng.randint(0, 999)}"])
                + rng.choice(["", "%", "s", "ms", "m", "h", "d", "w", "y", "ns", "us"])
            )
        if kind == 3:
            return "".join(rng.choices("0123456789abcdef", k=rng.randint(6, 20)))
        if kind == 1:
            address = ".".join(str(rng.randint(0, 999)) for _ in range(4))
            return address + rng.choice(["", f":{rng.randint(0, 99999)}"])
        labels = [
            rng.choice("abcdefxyz") + "".join(rng.choices(label_chars, k=rng.randint(0, 12)))
            for _ in range(rng.randint(3, 5))
        ]
        return ".".join(labels) + f":{rng.randint(0, 99999)}"

    tokens = {
        rng.choice(["", "(", "["])
        + core()
        + rng.choice(["", ")", "]"])
        + rng.choice(["", ",", ".", ":", ";"])
        for _ in range(60_000)
    }
    shortcut = [(t, _ADDRESS_VALUE.fullmatch(t)) for t in tokens]
    shortcut = [(t, m.group(1) + "<*>" + m.group(2)) for t, m in shortcut if m]
    assert len(shortcut) > 40_000
    assert [(t, m) for t, m in shortcut if mask_summary(t) != m] == []
    for value in ("v1.2.3", "1.2.3", "deadbeef", "web-3.prod", "FIRING:1", "5mb", "10.0.0.1/24"):
        assert not _ADDRESS_VALUE.fullmatch(value)


# --- the position inference on hand-made nasty cases -----------------------------------------


def test_tokens_shortcut_agrees_with_tokenize() -> None:
    """_tokens skips _tokenize's value-phrase pass when no slot can absorb a neighbour."""
    rng = random.Random(6)
    pieces = ["<*>", "(", ")", "[", "]", "<", ">", "~", "KB", "bytes", "sec", "s", "ms", "x"]
    pieces += ["word", ",", ":", "B", "GB", "<<*>", "(<*>)", "<*>)", "d", "h", "m"]
    texts = [
        "".join(rng.choice(pieces) + rng.choice([" ", ""]) for _ in range(rng.randint(1, 12)))
        for _ in range(20_000)
    ]
    texts += [mask_summary(t) for t in _TRICKY_SUMMARIES + _random_summaries(seed=8, count=3_000)]
    mismatches = [t for t in texts if _tokens(t) != _tokenize(t)[0]]
    assert mismatches == []


def test_variable_length_values_are_one_slot() -> None:
    """A value with its unit, its alternative form or a '<' is one slot, whatever its length."""
    summaries = [
        "proxy.example.com:5070 close, 0 bytes sent, 0 bytes received, lifetime 00:01",
        "github.com:443 close, 1190 bytes (1.16 KB) sent, 1671 bytes (1.63 KB) received, lifetime 00:02",
        "csdnimg.cn:80 close, 850 bytes sent, 10547 bytes (10.2 KB) received, lifetime <1 sec",
        "10.0.0.1:80 close, 403 bytes sent, 426 bytes received, lifetime 02:14",
    ]
    assert set(mine_templates(summaries)) == {"<*> close, <*> sent, <*> received, lifetime <*>"}
    lists = [
        "we failed to resolve data source name bn782 bn783 bn784",
        "we failed to resolve data source name dadmin2",
        "we failed to resolve data source name tbird-admin1 tbird-sm1",
    ]
    assert len(set(mine_templates(lists))) == 1


def test_identifiers_mixing_letters_and_digits_are_values() -> None:
    summaries = [
        "Task attempt_1445144423722_0020_m_000002_0 done on node dn731",
        "Task attempt_1445144423722_0020_m_000009_1 done on node sn12a",
        "Task blk_-1608999687919862906 done on node R23-M0-N8",
        "Task 0x7f3a9c done on node 7h",
    ]
    assert set(mine_templates(summaries)) == {"Task <*> done on node <*>"}


def test_punctuation_glued_values_keep_their_key() -> None:
    summaries = [
        "synchronized to 10.100.20.250, stratum 3",
        "synchronized to LOCAL(0), stratum 10",
        "synchronized to ntp1.example.org:123, stratum 2",
    ]
    assert set(mine_templates(summaries)) == {"synchronized to <*>, stratum <*>"}
    # key=value: the key is part of the template, the value is not; empty values stay empty.
    auth = [
        "authentication failure; logname= uid=0 euid=0 tty=NODEVssh ruser= rhost=218.188.2.4",
        "authentication failure; logname= uid=500 euid=0 tty=NODEVssh ruser= rhost=host-7.net",
    ]
    assert set(mine_templates(auth)) == {
        "authentication failure; logname= uid=<*> euid=<*> tty=NODEVssh ruser= rhost=<*>"
    }
    assert set(mine_templates(["setWriteDBLastDataMinute=25233979", "setTodaySteps=42"])) == {
        "setWriteDBLastDataMinute=<*>",
        "setTodaySteps=<*>",
    }
    # An empty value in brackets is still that value: "()" and "(host)" are one template.
    connections = [
        "connection from 202.82.200.188 () at Fri Jul  1 07:57:30 2005",
        "connection from 203.101.45.59 (dsl-059.touchtelindia.net) at Sun Jul  3 10:05:25 2005",
        "connection from 24.54.76.216 (bflony.adelphia.net) at Fri Jun 17 07:07:00 2005",
    ]
    assert len(set(mine_templates(connections))) == 1
    # Dot leaders separate a value from its label; a URL does not take the sentence's colon.
    assert mask_summary("program interrupt: illegal instruction......1") == (
        "program interrupt: illegal instruction......<*>"
    )
    assert mask_summary("x-coredata://DB05/CalDAVPrincipal/p11: scheduler ran") == (
        "<*>: scheduler ran"
    )


def test_same_length_different_templates_stay_apart_when_each_value_is_frequent() -> None:
    """Same length, one word apart: a word taking a few values, each of them often, names
    different events (VM Started / Stopped / Paused / Resumed); a word taking many values,
    or few values each seen once or twice, is a parameter."""
    states = {"Started": 5, "Stopped": 4, "Paused": 3, "Resumed": 6}
    summaries = [
        f"[instance: 3f2b8c1e-9a4d-4c7b-8e2f-1a2b3c4d5e{i:02d}] VM {state} (Lifecycle Event)"
        for state, count in states.items()
        for i in range(count)
    ]
    assert len(set(mine_templates(summaries))) == 4
    methods = [
        f'10.11.10.1 "{method} /v2/54fadb412c4e40cdbaed9335e4c35a9e/servers HTTP/1.1" '
        f"status: {status} len: {length} time: 0.{length}"
        for method, status in (("GET", 200), ("POST", 202), ("DELETE", 204))
        for length in range(1000, 1004)
    ]
    assert len(set(mine_templates(methods))) == 3
    namespaces = ["payments", "checkout", "search", "identity", "orders", "cart"]
    crash = [f"Pod {ns}/api-{i} is crash looping" for i, ns in enumerate(namespaces * 2)]
    assert set(mine_templates(crash)) == {"Pod <*>/<*> is crash looping"}


def test_frequent_value_split_is_order_independent() -> None:
    rng = random.Random(4)
    summaries = [f"VM {s} on host-{rng.randint(1, 9)}" for s in ["Started"] * 6 + ["Stopped"] * 5]
    summaries += [f"Disk {rng.randint(1, 99)}% full on {w}" for w in "abcdefg"]
    expected = dict(zip(summaries, mine_templates(summaries), strict=True))
    assert len(set(expected.values())) == 3
    for _ in range(5):
        rng.shuffle(summaries)
        assert dict(zip(summaries, mine_templates(summaries), strict=True)) == expected


# --- real rule templates, filled with realistic values ----------------------------------------

_WORDS = {
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
    base = rng.choice(_WORDS["workload"])
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
        return f"{rng.choice(_WORDS['workload'])}-{rng.randint(1, 40)}.prod.example.com{suffix}"
    if kind == 2:
        return f"ip-10-{rng.randint(0, 255)}-{rng.randint(0, 255)}-{rng.randint(1, 254)}.ec2.internal{suffix}"
    return f"{rng.choice(['db', 'web', 'cache', 'node', 'worker'])}-{rng.randint(1, 99)}{suffix}"


def _label_value(name: str, rng: random.Random) -> str:
    if name in ("instance", "hostname", "server", "target", "exporter", "proxy"):
        return _host(rng)
    if name in ("node", "master"):
        return _host(rng, port=False)
    if name in ("pod", "replica"):
        return _pod(rng)
    if name in ("namespace", "exported_namespace"):
        return rng.choice(_WORDS["namespace"])
    if name in (
        "cluster",
        "source_cluster",
        "target_cluster",
        "envoy_cluster_name",
        "cassandra_cluster",
    ):
        return rng.choice(_WORDS["cluster"])
    if name in ("job", "job_name", "jenkins_job", "cronjob"):
        return rng.choice(_WORDS["job"])
    if name == "device":
        return rng.choice(_WORDS["device"])
    if name == "mountpoint":
        return rng.choice(_WORDS["mountpoint"])
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
        return rng.choice(_WORDS["workload"])
    if name in ("url", "base_url"):
        return f"https://{rng.choice(_WORDS['workload'])}.example.com/api/v{rng.randint(1, 3)}"
    if name in ("id", "executor_id", "project_id", "dbinstance_identifier"):
        return rng.choice(
            [
                str(rng.randint(1, 99999)),
                f"{rng.choice(_WORDS['workload'])}-{rng.randint(1, 99)}",
                "".join(rng.choices("0123456789abcdef", k=12)),
            ]
        )
    return rng.choice(_WORDS["generic"])


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
            with_value.append(_label_value(label.group(1), rng) if label else "x")
            return ""
        if expression == "end":
            return ""
        if expression == ".":
            return with_value[-1] if with_value else ""
        label = re.search(r"\$labels\.(\w+)", expression)
        if label and "$value" not in expression and "query" not in expression:
            return _label_value(label.group(1), rng)
        if "$labels }}" in match.group(0) or expression == "$labels":
            return "map[instance:" + _host(rng) + "]"
        return _value(expression, rng)

    return " ".join(_SLOT.sub(render, template).split())


def load_rules() -> list[dict]:
    rules = []
    for name in ("awesome_prometheus_alerts_rules.json", "kube_prometheus_rules.json"):
        data = json.loads((TEMPLATES_DIR / name).read_text())
        rules.extend(data["rules"])
    return rules


def _first_line(text: str | None) -> str:
    return (text or "").strip().split("\n")[0]


def realdata_corpora(instances: int = 8, seed: int = 11) -> dict[str, tuple[list[str], list[int]]]:
    """Filled alert texts with their rule index, in three shapes PagerDuty receives.

    - ``summary``: the rule's summary annotation (the Alertmanager ``summary`` a PagerDuty
      integration often uses as the incident title);
    - ``description``: the first line of the description annotation (more slots per text);
    - ``alertmanager``: Alertmanager's default PagerDuty description,
      ``[FIRING:n] <alertname> (<other common label values>)``.
    """
    rng = random.Random(seed)
    rules = load_rules()
    corpora: dict[str, tuple[list[str], list[int]]] = {}
    for shape in ("summary", "description", "alertmanager"):
        texts: list[str] = []
        labels: list[int] = []
        seen: dict[str, int] = {}
        for index, rule in enumerate(rules):
            if shape == "summary":
                template = rule["summary_template"] or ""
            elif shape == "description":
                template = _first_line(rule["description_template"])
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
                    others = [
                        _label_value("instance", rng),
                        rng.choice(_WORDS["job"]),
                        rng.choice(_WORDS["namespace"]),
                    ]
                    text = (
                        f"[FIRING:{rng.randint(1, 6)}] {rule['alert']} "
                        f"({' '.join(others)} {rule['severity'] or 'warning'})"
                    )
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


Method = Callable[[list[str]], list[str]]
METHODS: dict[str, Method] = {
    "pagerlens": mine_templates,
    "pagerlens_mask_only": lambda texts: [mask_summary(t) for t in texts],
    "drain3_default": lambda texts: drain3_templates(texts, masked=False),
    "drain3_masked": lambda texts: drain3_templates(texts, masked=True),
}


def compare_on_realdata(instances: int = 8, seed: int = 11) -> dict[str, dict[str, dict]]:
    """Scores of every method on every corpus shape (used by the tests and the benchmark)."""
    results: dict[str, dict[str, dict]] = {}
    for shape, (texts, labels) in realdata_corpora(instances, seed).items():
        results[shape] = {name: score(labels, method(texts)) for name, method in METHODS.items()}
    return results


@pytest.fixture(scope="module")
def realdata_scores() -> dict[str, dict[str, dict]]:
    return compare_on_realdata()


@needs_shared
@pytest.mark.parametrize("shape", ["summary", "description", "alertmanager"])
def test_real_templates_are_recovered(realdata_scores: dict, shape: str) -> None:
    ours = realdata_scores[shape]["pagerlens"]
    print(shape, {k: (round(v, 4) if isinstance(v, float) else v) for k, v in ours.items()})
    # Measured (8 texts per rule, seed 11): ARI 0.87 / 0.93 / 0.97, rules recovered exactly
    # 0.89 / 0.89 / 0.98 for summary / description / alertmanager (docs/grouping.md).
    assert ours["ari"] >= 0.85
    assert ours["homogeneity"] >= 0.97
    assert ours["completeness"] >= 0.98
    assert ours["rules_exact"] >= 0.85


@needs_shared
@pytest.mark.parametrize("shape", ["summary", "description", "alertmanager"])
def test_beats_drain3_on_real_templates(realdata_scores: dict, shape: str) -> None:
    ours = realdata_scores[shape]["pagerlens"]
    for baseline in ("drain3_default", "drain3_masked"):
        theirs = realdata_scores[shape][baseline]
        print(
            shape,
            baseline,
            {k: (round(v, 4) if isinstance(v, float) else v) for k, v in theirs.items()},
        )
        if shape == "alertmanager" and baseline == "drain3_masked":
            # Measured: drain3 with its example masking wins on this shape (its prefix tree
            # keys on the alertname, the 2nd token): 0.989 vs 0.977 rules exact. Stay close.
            assert ours["rules_exact"] >= theirs["rules_exact"] - 0.03
            continue
        assert ours["rules_exact"] >= theirs["rules_exact"]
        assert ours["ari"] >= theirs["ari"] - 0.005


@needs_shared
def test_filled_corpus_is_varied() -> None:
    """Guard against a filler that makes the task trivial: most texts are distinct."""
    texts, labels = realdata_corpora()["description"]
    assert len(set(labels)) > 900
    assert len(set(texts)) > 0.6 * len(texts)


# --- generalisation beyond alerts: Loghub-2k (LogPAI's labelled log templates) ----------------

LOGHUB_DIR = SHARED / "realdata" / "loghub" / "loghub_2k_original"
# Loghub-2.0's corrected ground truth of the same 2k lines (14 systems: no Android, no Windows),
# what its evaluator scores "Loghub-2k" against; the acceptance figures are on these.
LOGHUB_CORRECTED_DIR = SHARED / "realdata" / "loghub" / "loghub_2k_corrected"
needs_loghub = pytest.mark.skipif(
    not LOGHUB_CORRECTED_DIR.exists(), reason="../shared/realdata/loghub not available"
)


def grouping_accuracy(truth: list[str], predicted: list[str]) -> float:
    """LogPAI's GA: the share of messages whose predicted group is exactly their true group."""
    score_ = score(list(pd_codes(truth)), predicted)
    return score_["grouping_accuracy"]


def pd_codes(values: list[str]) -> list[int]:
    codes: dict[str, int] = {}
    return [codes.setdefault(v, len(codes)) for v in values]


def loghub_corrected_scores() -> dict[str, float]:
    """pagerlens' GA per system on the corrected Loghub-2k ground truth (one configuration)."""
    import csv as csv_module

    results: dict[str, float] = {}
    for path in sorted(LOGHUB_CORRECTED_DIR.glob("*/*_structured_corrected.csv")):
        with path.open(newline="") as fh:
            rows = list(csv_module.DictReader(fh))
        contents = [r["Content"] for r in rows]
        truth = [r["EventId"] for r in rows]
        results[path.parent.name] = grouping_accuracy(truth, mine_templates(contents))
    return results


@needs_loghub
def test_loghub_grouping_accuracy() -> None:
    """Acceptance: mean GA >= 0.95 and no system below 0.80 on the corrected Loghub-2k sets,
    untuned (no per-system regexes or parameters)."""
    results = loghub_corrected_scores()
    print({name: round(value, 3) for name, value in results.items()})
    assert len(results) == 14
    mean = sum(results.values()) / len(results)
    # Measured: mean 0.985, worst HPC 0.951 (docs/grouping.md has every system).
    assert mean >= 0.95
    assert min(results.values()) >= 0.80


def test_grouping_accuracy_is_logpai_ga() -> None:
    """A line counts only when its predicted group is exactly its true group."""
    truth = ["a", "a", "b", "b", "c"]
    assert grouping_accuracy(truth, ["x", "x", "y", "y", "z"]) == 1.0
    assert grouping_accuracy(truth, ["x", "x", "x", "x", "z"]) == 0.2  # a+b merged: 4 wrong
    assert grouping_accuracy(truth, ["x", "w", "y", "y", "z"]) == 0.6  # a split: 2 wrong


def loghub_scores() -> dict[str, dict[str, float]]:
    """GA per Loghub-2k system for pagerlens and drain3 (example masking), untuned."""
    import csv as csv_module

    results: dict[str, dict[str, float]] = {}
    for path in sorted(LOGHUB_DIR.glob("*/*_structured.csv")):
        with path.open(newline="") as fh:
            rows = list(csv_module.DictReader(fh))
        contents = [r["Content"] for r in rows]
        truth = [r["EventId"] for r in rows]
        results[path.parent.name] = {
            "pagerlens": grouping_accuracy(truth, mine_templates(contents)),
            "drain3_masked": grouping_accuracy(truth, drain3_templates(contents, masked=True)),
        }
    return results


@pytest.mark.slow
@pytest.mark.skipif(not LOGHUB_DIR.exists(), reason="../shared/realdata/loghub not available")
def test_generalises_to_loghub() -> None:
    results = loghub_scores()
    assert len(results) == 16
    ours = sum(r["pagerlens"] for r in results.values()) / len(results)
    theirs = sum(r["drain3_masked"] for r in results.values()) / len(results)
    print({k: {m: round(v, 3) for m, v in r.items()} for k, r in results.items()})
    print(f"mean GA pagerlens {ours:.3f} drain3_masked {theirs:.3f}")
    # Measured: 0.984 vs 0.767 (published, per-dataset-tuned Drain: 0.866, Brain: 0.983).
    assert ours >= 0.95
    assert ours >= theirs
