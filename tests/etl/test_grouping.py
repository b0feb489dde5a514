"""Template mining, unit cases: hand-made summaries and the templates they must give, through
the public API (``etl.grouping`` re-exports :mod:`etl.noise.templates`).

The other template tests: ``test_grouping_masks.py`` (the masking shortcuts against
``mask_summary``), ``test_grouping_rules.py`` (real alert-rule templates, against drain3),
``test_grouping_loghub.py`` (Loghub-2k)."""

from __future__ import annotations

import random
import re

import pytest

from etl.grouping import mask_summary, mine_templates, template_id

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


# --- the position inference on hand-made nasty cases -----------------------------------------


# case id: (summaries of one alert type, the one template they must share)
ONE_TEMPLATE_CASES = {
    # A value with its unit, its alternative form or a '<' is one slot, whatever its length.
    "values-of-any-length": (
        [
            "proxy.example.com:5070 close, 0 bytes sent, 0 bytes received, lifetime 00:01",
            "github.com:443 close, 1190 bytes (1.16 KB) sent, 1671 bytes (1.63 KB) received, lifetime 00:02",
            "csdnimg.cn:80 close, 850 bytes sent, 10547 bytes (10.2 KB) received, lifetime <1 sec",
            "10.0.0.1:80 close, 403 bytes sent, 426 bytes received, lifetime 02:14",
        ],
        "<*> close, <*> sent, <*> received, lifetime <*>",
    ),
    "value-lists": (
        [
            "we failed to resolve data source name bn782 bn783 bn784",
            "we failed to resolve data source name dadmin2",
            "we failed to resolve data source name tbird-admin1 tbird-sm1",
        ],
        "we failed to resolve data source name <*>",
    ),
    "ids-mixing-letters-and-digits": (
        [
            "Task attempt_1445144423722_0020_m_000002_0 done on node dn731",
            "Task attempt_1445144423722_0020_m_000009_1 done on node sn12a",
            "Task blk_-1608999687919862906 done on node R23-M0-N8",
            "Task 0x7f3a9c done on node 7h",
        ],
        "Task <*> done on node <*>",
    ),
    "punctuation-glued-values": (
        [
            "synchronized to 10.100.20.250, stratum 3",
            "synchronized to LOCAL(0), stratum 10",
            "synchronized to ntp1.example.org:123, stratum 2",
        ],
        "synchronized to <*>, stratum <*>",
    ),
    # key=value: the key is part of the template, the value is not; empty values stay empty.
    "key-value": (
        [
            "authentication failure; logname= uid=0 euid=0 tty=NODEVssh ruser= rhost=218.188.2.4",
            "authentication failure; logname= uid=500 euid=0 tty=NODEVssh ruser= rhost=host-7.net",
        ],
        "authentication failure; logname= uid=<*> euid=<*> tty=NODEVssh ruser= rhost=<*>",
    ),
    # An empty value in brackets is still that value: "()" and "(host)" are one template.
    "empty-brackets": (
        [
            "connection from 202.82.200.188 () at Fri Jul  1 07:57:30 2005",
            "connection from 203.101.45.59 (dsl-059.touchtelindia.net) at Sun Jul  3 10:05:25 2005",
            "connection from 24.54.76.216 (bflony.adelphia.net) at Fri Jun 17 07:07:00 2005",
        ],
        "connection from <*> at <*>",
    ),
}


@pytest.mark.parametrize(
    ("summaries", "template"), ONE_TEMPLATE_CASES.values(), ids=list(ONE_TEMPLATE_CASES)
)
def test_one_alert_type_is_one_template(summaries: list[str], template: str) -> None:
    assert set(mine_templates(summaries)) == {template}


def test_keys_and_labels_stay_in_the_template() -> None:
    assert set(mine_templates(["setWriteDBLastDataMinute=25233979", "setTodaySteps=42"])) == {
        "setWriteDBLastDataMinute=<*>",
        "setTodaySteps=<*>",
    }
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
