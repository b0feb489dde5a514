"""Template mining, the masking shortcuts: the per-token cache of ``mine_templates`` and its
proven shortcuts (``_PLAIN_VALUE``, ``_ADDRESS_VALUE``, ``_tokens``) fuzzed against the
slow paths they replace (``mask_summary`` on whole summaries, ``_tokenize``)."""

from __future__ import annotations

import random

from etl.noise.templates import mask_summary
from etl.noise.templates.positions import _tokenize, _tokens
from etl.noise.templates.token_masks import _ADDRESS_VALUE, _PLAIN_VALUE, _mask_distinct

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
