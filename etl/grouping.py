"""Alert templates: the summary of an alert with its variable parts replaced by ``<*>``.

``mine_templates(summaries)`` maps every summary to its template; summaries sharing a template
are one alert type ("Disk 91% full on db-7" and "Disk 88% full on db-3" are
"Disk <*> full on <*>"). It works in two stages, on the *distinct* summaries only:

1. **Masking** (per string, no context needed): regular expressions for the shapes a value
   takes whatever the alert source: URLs, e-mail addresses, UUIDs, IPv4/IPv6 addresses with
   ports, MAC addresses, hex ids, quoted ids, the values of ``key=value`` (the key stays),
   durations (``3h 25m 4s``), versions, numbers with units, Kubernetes pod names, file paths,
   host names (dotted names, ``host:port``), day and month names, empty brackets (an empty
   value) and every identifier that carries digits (``db-7``, ``ip-10-0-3-17``, ``LOCAL(0)``).
   Plain words, quoted or not, are left to stage 2.
2. **Position inference** (over the batch). Tokens are words and punctuation; a value's unit
   (``0 bytes``, ``1.16 KB``), a comparison glued to it (``<1 sec``) and a bracketed value
   right after it (``1190 bytes (1.16 KB)``) belong to that value's slot. Masked summaries with
   the same token count and the same *anchor* (their first word that is neither masked nor an
   Alertmanager status prefix) are merged, Drain-like, when at least ``similarity`` of their
   word positions agree. Then each position of a merged cluster that took plain words is
   judged by its values' frequencies (the observation behind Brain, Yu et al. 2023: a word of
   the template recurs as often as the template, a parameter's values are each rare): it
   becomes ``<*>`` unless it takes fewer than ``min_distinct_values`` values, or at most
   ``max_frequent_values`` values each seen at least ``frequent_support`` times; then the
   cluster is split by those values. This tells a namespace (``payments``, ``checkout``,
   ``search`` ... once or twice each) from words that name different events (``in`` / ``out``,
   ``VM Started`` / ``Stopped`` / ``Paused`` / ``Resumed`` dozens of times each), where plain
   Drain merges both. Adjacent slots are written as one ``<*>``, so a list of values of any
   length gives one template.

Determinism: distinct summaries are processed in a fixed order (most frequent masked form
first, ties by text), so the same multiset of summaries always yields the same templates,
whatever the input order. The templates of a batch can depend on the batch (that is the
point of stage 2); each summary string is masked once per call (cache by string).

Speed: stage 1 runs per whitespace *token* with a cache, not per summary (see
``_TokenMasks``): a nightly batch holds ~10^5-10^6 distinct summaries but far fewer distinct
tokens once the values shaped like pod names or addresses are recognised, and the commonest
one-off tokens (numbers, addresses, pod names, plain words) take proven shortcuts. The result
is byte-identical to calling ``mask_summary`` on every summary (``tests/etl/test_grouping.py``
checks the cached path against it).

Measured against drain3 on the real Prometheus rule templates and on Loghub-2k: see
``docs/grouping.md``.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

WILDCARD = "<*>"

# Order matters: the broadest shapes (URLs, e-mails) go first so that their inner dots and
# digits are not masked piecemeal.
_MASK_SPECS = (
    # URLs and e-mail addresses.
    # (A URL's trailing ":" "." "," ";" "!" or "?" is the sentence's, not the URL's.)
    (r"\b[a-z][a-z0-9+.\-]*://[^\s\"'<>()\[\]{}]+(?<![:.,;!?])", re.IGNORECASE, WILDCARD),
    (r"\b[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+\b", 0, WILDCARD),
    # UUIDs, before hex and numbers eat their groups.
    (r"\b[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}\b", 0, WILDCARD),
    # MAC addresses and IPv6 (at least three hex groups separated by colons).
    (r"\b(?:[0-9a-fA-F]{2}[:\-]){5}[0-9a-fA-F]{2}\b", 0, WILDCARD),
    (r"(?<![\w:])(?:[0-9a-fA-F]{0,4}:){2,7}[0-9a-fA-F]{1,4}(?![\w:])", 0, WILDCARD),
    # IPv4 with optional CIDR suffix and port.
    (r"\b\d{1,3}(?:\.\d{1,3}){3}(?:/\d{1,2})?(?::\d{1,5})?\b", 0, WILDCARD),
    # Quoted values (the quotes stay: they are part of the message's shape).
    (r"\"(?![A-Za-z]+\")[^\"\s]{1,120}\"", 0, '"<*>"'),
    (r"(?<![A-Za-z])'(?![A-Za-z]+')[^'\s]{1,120}'(?![A-Za-z])", 0, "'<*>'"),
    (r"`(?![A-Za-z]+`)[^`\s]{1,120}`", 0, "`<*>`"),
    # key=value and key: value pairs in label dumps keep the key.
    (r"(?<=[\w\]])=(?!=)(?![A-Za-z]+(?:[\s,;)\]}]|$))[^\s,;)\]}]+", 0, "=" + WILDCARD),
    # Hex ids (0x..., or 8+ hex chars that mix digits and letters) and long digit runs.
    (r"\b0x[0-9a-fA-F]+\b", 0, WILDCARD),
    (r"\b(?=[0-9a-fA-F]*\d)(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{8,}\b", 0, WILDCARD),
    # Durations, including compound ones ("3h 25m 4s", "1d2h", "250ms").
    (
        r"(?<![\w.])\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h|d|w|y)"
        r"(?:\s?\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h|d|w|y))*(?![\w])",
        0,
        WILDCARD,
    ),
    # File system paths (at least two components, or a device path).
    (
        r"(?<![\w<*>])/(?:(?:[\w.\-]|<\*>)+/+)+(?:[\w.\-]|<\*>)*(?:\?[^\s\"'<>]*)?"
        r"|(?<![\w])/(?:dev|var|mnt|data|opt)\b[\w/.\-]*",
        0,
        WILDCARD,
    ),
    # Versions (v1.2.3, 1.27.4-gke.100).
    (r"\b(?:v\d+(?:\.\d+){1,3}|\d+(?:\.\d+){2,3})(?:[-+][\w.]+)?\b", 0, WILDCARD),
)
# A mask runs only when its text holds one of these substrings ("" + digit flag: needs a
# digit): skipping hopeless regexes is most of the masking time on real summaries.
_NEEDS: tuple[tuple[str, ...], ...] = (
    ("://",),
    ("@",),
    ("-",),
    (":", "-"),
    (":",),
    ("#digit",),
    ('"',),
    ("'",),
    ("`",),
    ("=",),
    ("0x", "0X"),
    ("#digit",),
    ("#digit",),
    ("/",),
    ("#digit",),
)
_MASKS: tuple[tuple[re.Pattern[str], str, tuple[str, ...]], ...] = tuple(
    (re.compile(pattern, flags), replacement, needs)
    for (pattern, flags, replacement), needs in zip(_MASK_SPECS, _NEEDS, strict=True)
)

# Whole-token rules, applied after the masks on whitespace-separated pieces.
_TOKEN_SPLIT = re.compile(r"(\s+)")
_HAS_DIGIT = re.compile(r"\d")
_SKELETON = str.maketrans("23456789", "11111111")
# Constants that carry digits and name a kind of alert, not an instance: HTTP classes
# (5xx), percentiles (p99), short product names (S3, EC2, k8s, IPv6, HTTP2, OAuth2). A lowercase
# word of four or more letters with a digit is a host or device name (dadmin2, node1), a value.
_DIGIT_CONSTANT = re.compile(
    r"^(?:\d[xX]{2}|[pP]\d{2,3}(?:\.\d+)?|(?![a-z]{4})[A-Za-z]{1,6}\d[A-Za-z]{0,3}|\d[A-Za-z]{1,4})$"
)
# CamelCase names with digits are alert or metric names, not values (AwsEc2HighCpu,
# ApcUpsLessThan15Minutes, Http5xxErrorRate).
_CAMEL_NAME = re.compile(r"^[A-Z][a-z]+(?:[A-Z0-9][a-z0-9]*){2,}$")
# ... also with a qualifier glued on: HaproxyRetryHigh(v1), MysqlTooManyConnections(>80%).
_CAMEL_QUALIFIED = re.compile(r"^[A-Z][a-z]+(?:[A-Z0-9][a-z0-9]*){2,}[(<>][^\s]{0,12}$")
# A number with an optional sign, thousands separators, decimals, exponent and unit.
_NUMBER = re.compile(
    r"^[-+]?\d[\d,]*(?:\.\d+)?(?:[eE][-+]?\d+)?"
    r"(?:%|[kKMGTP]i?[bB]?|[bB]|ms|s|x|ops|rps|qps|/s)?$"
)
# Dotted host names (two dots, letters), e.g. api.prod.example.com.
_FQDN = re.compile(r"^[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+){2,}(?::\d+)?$")
# Where a token's values are cut apart: paths, host:port, key=value, dot leaders
# ("instruction......1").
_VALUE_SEPARATOR = re.compile(r"([/:=]|\.{2,})")
# host:port with a dotted host name (github.com:443, Main.java:120).
_HOST_PORT = re.compile(r"^[A-Za-z0-9\-_]+(?:\.[A-Za-z0-9\-_]+)+:\d{1,5}$")
# Day and month names are parts of a date, a value ("May" is left alone: also a word).
_CALENDAR = frozenset(
    "Mon Tue Wed Thu Fri Sat Sun Jan Feb Mar Apr Jun Jul Aug Sep Sept Oct Nov Dec".split()
)
_EMPTY_BRACKETS = re.compile(r"^(\(\)|\[\])([,;:.]?)$")
# Punctuation that may wrap a value inside a token: "(web-3)," -> "(", "web-3", "),".
_WRAP = re.compile(r"^([\[\](){}<>,;:\"'`]*)(.*?)([\[\](){}<>,;:.!?\"'`]*)$")

_ADJACENT_MASKS = re.compile(r"<\*>(?:[:.\-_@]<\*>)+")

# --- per-token masking (the cache of ``mine_templates``) ---------------------------------------
#
# Token-locality. Only four masks can consume whitespace: the three quoted-value masks,
# ``=\s?value`` and the compound durations (``3h 25m``); every other mask excludes whitespace
# from every character it matches. Every ``\b`` and lookaround of every mask stops at a space
# exactly as it stops at the end of the text: the characters it looks for (``\w``, hex digits,
# ``:``, ``.``, ``]``, ``<``, ``*``, ``>``, ``=``, letters) hold no space. No replacement holds
# a space, and the prefilters of ``mask_summary`` (``_NEEDS``) only skip masks that cannot
# match. Hence, when no mask match crosses a space, masking the whole normalised summary equals
# masking each whitespace token alone:
# ``mask_summary(s) == " ".join(mask_summary(t) for t in s.split())``.
# A match across a space needs, in the text that mask sees (after the earlier masks), a quote
# character, an "=" right before the space, or a digit and a duration unit ("3h", "250ms")
# right before it and a digit right after it. Replacements hold no "=" (but the "=" mask's own,
# made by that very mask), quote (unless the summary had one), digit or letter, and none is
# empty, so those characters are the summary's own and adjacent in it too: the summary matches
# ``_CROSSES`` (conservatively: any quote at all), and the token before the space matches
# ``_CROSS_RISK``. A summary with no ``_CROSS_RISK`` token is joined from its tokens' masks; one
# with some is checked with ``_CROSSES`` (slower, so not run on every summary) and masked whole
# only if that matches.
_CROSS_RISK = re.compile(r"[\"'`]|=$|\d(?:ns|us|µs|ms|s|m|h|d|w|y)$")
# What a _CROSS_RISK token maps to in the token cache (no mask or token yields a NUL).
_CROSS_MARK = "\x00"
_CROSSES = re.compile(r"[\"'`]|=\s|\d(?:ns|us|µs|ms|s|m|h|d|w|y)\s+\d")

# A token that certainly masks to a bare "<*>" (a "plain value"): lowercase ASCII words joined
# by "-", at least one digit, and a first and a last word that no mask can touch (or empty: a
# leading/trailing "-"). Most distinct tokens of a large batch have this shape (pod names such
# as "payments-api-7d9f8b6c4-x2k9p"), each seen once, so a cache by string cannot help them
# (and their letters defeat the digit skeleton).
# Proof. In such a token only the UUID, MAC, 0x, hex-id and duration masks can match (every
# other one needs one of "://" "@" ":" "." "/" "=" or a quote, and no replacement adds any).
# Each of those starts after no word character and ends before none, so it matches whole
# "-"-separated words: words of hex digits only, "0x" and hex digits, or (durations) a digit
# followed by digits and unit letters. A word with a letter of g-z that is neither of the last
# two is untouchable (``_UNTOUCHABLE_WORD``). Replacements ("<*>") hold no word character, so
# the words left keep non-word neighbours and every later mask sees them as the first did.
# With the first and last words untouched, ``_mask_token`` gets a text that starts with a
# letter or "-" and ends with a letter, digit or "-", so no wrapping punctuation is cut off
# (lead and trail are empty); that holds "<*>", or else still a digit and a "-" (so it is no
# ``_DIGIT_CONSTANT``); and that is no CamelCase name (a number or host name would give "<*>"
# as well): it returns "<*>". No mask can match across the space after such a token either (no
# quote, no "=", its last word is no duration), so it is never a cross risk.
# ``tests/etl/test_grouping.py`` fuzzes this against ``mask_summary``.
_UNTOUCHABLE_WORD = (
    r"(?=[a-z0-9]*[g-z])"  # not all hex digits: no UUID, MAC or hex id
    r"(?!0x[0-9a-f]*(?![a-z0-9]))"  # no 0x id
    r"(?![0-9][0-9nsumhdwy]*(?![a-z0-9]))"  # no duration
    r"[a-z0-9]*"
)
_PLAIN_VALUE = re.compile(
    rf"(?=[a-z\-]*[0-9])(?:{_UNTOUCHABLE_WORD})?-(?:[a-z0-9\-]*-)?(?:{_UNTOUCHABLE_WORD})?"
)

# A number (with "%" or a duration unit), a hex id, an IPv4 address (with a port) or a host name
# of three or more labels with a port, in at most one bracket and one of ". , : ;": the most
# common distinct tokens of a large batch, each seen once. Such a token certainly masks to its
# punctuation around "<*>". Proof. The number (``[-+]?\d+(\.\d+)?``) holds no letter but its
# unit, no "://", "@", ":", "/", "=", quote or second dot, so only the duration mask can match
# it, whole (then "-<*>" or "+<*>", a core holding "<*>": "<*>"); otherwise ``_NUMBER`` takes the
# core. The hex id (8+ hex digits, one of them a digit) is taken whole by the hex-id mask if it
# has a letter (nothing earlier matches: no "-", ":" or dot), else it is a number. The IPv4 address is matched whole by the IPv4 mask, port included
# (nothing earlier can: MAC and IPv6 need ":" or "-" groups, durations a unit). The host name's
# labels start with a letter (no version, IPv4 or number), there is one ":" (no IPv6): a mask can
# only cut into a label (hex id, MAC, 0x id, duration after a "-"), and then the ":"-part holding
# that "<*>" and the port (digits, no ``_DIGIT_CONSTANT``) both give "<*>" and
# ``_ADJACENT_MASKS`` joins them; with no mask, ``_FQDN`` takes the core. The bracket and the
# final punctuation are cut off by ``_WRAP`` (a ">" of "<*>" taken by the trail is given back).
# ``tests/etl/test_grouping.py`` fuzzes this against ``mask_summary``.
_ADDRESS_VALUE = re.compile(
    r"([(\[]?)(?:[-+]?\d+(?:\.\d+)?(?:%|ns|us|ms|s|m|h|d|w|y)?|(?=[0-9a-f]*\d)[0-9a-f]{8,}"
    r"|\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?|[a-z][a-z0-9\-]*(?:\.[a-z][a-z0-9\-]*){2,}:\d{1,5})"
    r"([)\]]?[.,:;]?)"
)

# Word-level tokens for position inference: the mask, identifier-ish words, or one
# punctuation character. Whitespace is remembered separately to rebuild the text.
_WORD = re.compile(r"<\*>|[^\W_][\w\-.]*[^\W_]|[^\W_]|[^\s\w]|_+")
_UNITS = frozenset(
    "B KB MB GB TB PB KiB MiB GiB TiB kB bytes byte b Bytes ms msec msecs us ns sec secs "
    "second seconds s min mins minute minutes h hr hrs hour hours d day days ".split()
)
_VALUE_PREFIX = frozenset("< > ~ <= >=".split())
_CLOSING = {")": "(", "]": "["}
_NORMALISED = _UNITS | _VALUE_PREFIX | _CLOSING.keys()
# Where ``_tokenize`` can change the plain tokens, loosely: a token after "<*> " that may be a
# unit, a "<", ">" or "~" glued before "<*>", or "<*> (<*>)". Every change needs one of these
# first, on tokens still adjacent in the text (tokens are only ever dropped).
_NEEDS_NORMALISING = re.compile(
    r"<\*>\s(?:"
    + "|".join(sorted(map(re.escape, _UNITS), key=len, reverse=True))
    + r")|[<>~]<\*>|<\*>\s?[(\[]\s?<\*>\s?[)\]]"
)
# _WORD with the whitespace before each token (the masked text holds single spaces only).
_SPACED_WORD = re.compile(r"(\s*)(" + _WORD.pattern + ")")
_STATUS_PREFIX = {"FIRING", "RESOLVED", "firing", "resolved", "ALERT", "Alert", "WARN", "CRIT"}


@dataclass(frozen=True)
class MinerSettings:
    """Parameters of the position-inference stage (stored with results for traceability).

    One configuration for every source. On Loghub-2k (corrected) the mean GA stays within
    0.984-0.985 for ``similarity`` 0.5-0.7 and ``max_frequent_values`` 4-16 with
    ``frequent_support`` 3 (docs/grouping.md).
    """

    similarity: float = 0.6
    # A position taking fewer values than this is split on them (two values: in / out).
    min_distinct_values: int = 3
    # ... and one taking at most max_frequent_values values, each on at least
    # frequent_support summaries (counted with repeats): words naming events, not parameters.
    frequent_support: int = 3
    max_frequent_values: int = 8


DEFAULT_SETTINGS = MinerSettings()


def mask_summary(summary: str) -> str:
    """Stage 1 alone: the summary with every value shape the regexes know replaced by ``<*>``.

    Whitespace is normalised to single spaces. Masks stay one per token here, so that texts
    of one alert keep the same token count for stage 2; the final template collapses masks
    separated only by spaces ("<*> <*>" -> "<*>").
    """
    text = " ".join(summary.split())
    has_digit = _HAS_DIGIT.search(text) is not None
    for pattern, replacement, needs in _MASKS:
        if needs == ("#digit",):
            if not has_digit:
                continue
        elif not any(n in text for n in needs):
            continue
        text = pattern.sub(replacement, text)
    return " ".join([_mask_token(piece) for piece in text.split(" ")])


@lru_cache(maxsize=1 << 16)
def _mask_token(piece: str) -> str:
    if not piece or WILDCARD == piece:
        return piece
    empty = _EMPTY_BRACKETS.match(piece)
    if empty:
        # An empty value slot ("connection from <ip> () at ...") is still a slot.
        return empty.group(1)[0] + WILDCARD + empty.group(1)[1] + empty.group(2)
    lead, core, trail = _WRAP.match(piece).groups()  # type: ignore[union-attr]
    # A mask at an end of the token belongs to the value, not to the wrapping punctuation
    # ("api-<*>-<*>" is core "api-<*>-<*>", not core "api-<*>-<*" and trail ">").
    if lead.endswith("<") and core.startswith("*>"):
        lead, core = lead[:-1], "<" + core
    if trail.startswith(">") and core.endswith("<*"):
        core, trail = core + ">", trail[1:]
    # A bracket opened inside the value closes it: "LOCAL(0)," is core "LOCAL(0)".
    for opening, closing in (("(", ")"), ("[", "]")):
        if trail.startswith(closing) and core.count(opening) > core.count(closing):
            core, trail = core + closing, trail[1:]
    if not core or core == WILDCARD:
        return piece
    if _NUMBER.match(core) or _FQDN.match(core) or _HOST_PORT.match(core) or core in _CALENDAR:
        return f"{lead}{WILDCARD}{trail}"
    if _CAMEL_NAME.match(core) or _CAMEL_QUALIFIED.match(core):
        return piece
    if WILDCARD in core or (_HAS_DIGIT.search(core) and not _DIGIT_CONSTANT.match(core)):
        # An identifier with digits (db-7, ip-10-0-3-17, api-7d9f8b6c4-x2k9p, sda1p2,
        # payments/api-2) or one a mask already cut into: mask each "/"-separated part that
        # holds a value, so "payments/api-7d9f8b6c4-x2k9p" keeps its namespace/pod shape.
        parts = _VALUE_SEPARATOR.split(core)
        masked = [
            WILDCARD
            if WILDCARD in part or (_HAS_DIGIT.search(part) and not _DIGIT_CONSTANT.match(part))
            else part
            for part in parts
        ]
        joined = "".join(masked)
        # host:port and similar: one value, whatever the number of masked pieces.
        joined = _ADJACENT_MASKS.sub(WILDCARD, joined)
        return lead + joined + trail
    return piece


@dataclass
class _Cluster:
    tokens: list[str]
    members: list[int]  # indexes into the list of distinct masked forms


def _tokens(masked: str) -> list[str]:
    """The tokens of ``_tokenize`` alone (the spaces are only needed to write a template)."""
    if _NEEDS_NORMALISING.search(masked) is None:
        return _WORD.findall(masked)
    return _tokenize(masked)[0]


def _tokenize(masked: str) -> tuple[list[str], list[str]]:
    pairs = _SPACED_WORD.findall(masked)
    tokens = [token for _, token in pairs]
    if _NORMALISED.isdisjoint(tokens):
        return tokens, [space for space, _ in pairs]
    tokens = []
    spaces: list[str] = []
    for space, token in pairs:
        if tokens and tokens[-1] == WILDCARD:
            # A value's unit belongs to that value: "1190 bytes (1.16 KB)" and "0 bytes"
            # are one slot.
            if token in _UNITS and space:
                continue
        if token == WILDCARD and tokens and tokens[-1] in _VALUE_PREFIX and not space:
            # "<1 sec", ">80%": the comparison is part of the value.
            tokens.pop()
            space = spaces.pop()
        if (
            token in _CLOSING
            and len(tokens) >= 3
            and tokens[-1] == WILDCARD
            and tokens[-2] == _CLOSING[token]
            and tokens[-3] == WILDCARD
        ):
            # "<*> (<*>)": a value with its alternative form in brackets is one value.
            del tokens[-2:], spaces[-2:]
            continue
        spaces.append(space)
        tokens.append(token)
    return tokens, spaces


def _anchor(tokens: Sequence[str]) -> str:
    """The first word that is neither masked nor a status prefix: a cheap, robust partition.

    Words rarely vary in first position; when they do (a bare host name first) the summaries
    are split rather than merged, which costs completeness, not correctness.
    """
    for token in tokens:
        if token == WILDCARD or token in _STATUS_PREFIX:
            continue
        # Hyphenated or dotted words are usually names of things (node-exporter,
        # payments-api), i.e. values; the anchor is the first plain word.
        if token.isalpha() or _CAMEL_NAME.match(token):
            return token
    return WILDCARD


def _similarity(template: Sequence[str], tokens: Sequence[str]) -> tuple[float, int]:
    """Share of agreeing *word* positions (punctuation and masked values carry no evidence:
    counting them made every "X (instance <*>)" summary look alike), and wildcard count."""
    same = 0
    words = 0
    wildcards = 0
    for left, right in zip(template, tokens, strict=True):
        if left == WILDCARD:
            wildcards += 1
            if right != WILDCARD:
                words += 1
            continue
        if right == WILDCARD or not left[0].isalnum():
            continue
        words += 1
        same += left == right
    return (same / words if words else 1.0), wildcards


def _infer_positions(
    forms: list[list[str]],
    masked: list[str],
    weights: list[int],
    settings: MinerSettings,
) -> list[str]:
    """Stage 2: the template of every distinct masked form (same order as ``forms``)."""
    buckets: dict[tuple[int, str], list[_Cluster]] = defaultdict(list)
    # ``forms`` come sorted by their masked text: ties in weight keep that order.
    order = sorted(range(len(forms)), key=weights.__getitem__, reverse=True)
    for index in order:
        tokens = forms[index]
        key = (len(tokens), _anchor(tokens))
        best: _Cluster | None = None
        best_score = (-1.0, -1)
        for cluster in buckets[key]:
            score = _similarity(cluster.tokens, tokens)
            if score > best_score:
                best, best_score = cluster, score
        if best is not None and best_score[0] >= settings.similarity:
            best.members.append(index)
            best.tokens = [
                a if a == b else WILDCARD for a, b in zip(best.tokens, tokens, strict=True)
            ]
        else:
            buckets[key].append(_Cluster(list(tokens), [index]))

    result: list[str] = [""] * len(forms)
    for clusters in buckets.values():
        for cluster in clusters:
            _finalise(cluster, forms, masked, weights, settings, result)
    return result


def _finalise(
    cluster: _Cluster,
    forms: list[list[str]],
    masked: list[str],
    weights: list[int],
    settings: MinerSettings,
    result: list[str],
) -> None:
    """Keep a merged position as ``<*>`` only if it varies enough; else split on it."""
    varying = [i for i, token in enumerate(cluster.tokens) if token == WILDCARD]
    weak: list[int] = []
    for position in varying:
        values: Counter[str] = Counter()
        for member in cluster.members:
            values[forms[member][position]] += weights[member]
        if WILDCARD in values:
            continue  # masked in stage 1 for at least one member: a value by shape
        if len(values) < settings.min_distinct_values or (
            len(values) <= settings.max_frequent_values
            and min(values.values()) >= settings.frequent_support
        ):
            weak.append(position)
    groups: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for member in cluster.members:
        groups[tuple(forms[member][p] for p in weak)].append(member)
    for members in groups.values():
        first = min(members, key=lambda m: (-weights[m], m))
        tokens = [
            forms[first][i] if i in weak or token != WILDCARD else WILDCARD
            for i, token in enumerate(cluster.tokens)
        ]
        if len(members) == 1 and len(cluster.members) > 1:
            # A singleton split off on a weak position: its own values are constants.
            tokens = [forms[first][i] if i in weak else token for i, token in enumerate(tokens)]
        text = _join(tokens, _tokenize(masked[first])[1])
        for member in members:
            result[member] = text


def _join(tokens: Sequence[str], spaces: Sequence[str]) -> str:
    text = "".join(space + token for space, token in zip(spaces, tokens, strict=True))
    while f"{WILDCARD} {WILDCARD}" in text:
        text = text.replace(f"{WILDCARD} {WILDCARD}", WILDCARD)
    return text.strip()


class _TokenMasks(dict[str, str]):
    """``token -> mask_summary(token)``, filled on first use; one instance per batch.

    A ``_CROSS_RISK`` token (one that might let a mask match across the following space) maps
    to ``_CROSS_MARK`` instead, so that a summary joined from its tokens' masks shows it;
    ``exact`` gives its mask. A missing token is resolved, cheapest first, by:

    1. plain ASCII words (unchanged, but day and month names), ``_PLAIN_VALUE`` (pod names)
       and ``_ADDRESS_VALUE`` (numbers, addresses, hex ids): they certainly mask to "<*>" in
       their punctuation (proofs at ``_PLAIN_VALUE`` and ``_ADDRESS_VALUE``);
    2. its digit skeleton (digits 2-9 -> 1): every mask and token rule tests digits only through
       classes that hold all of 1-9 or none of them (``\\d``, ``[0-9a-fA-F]``, ``\\w`` ...;
       the only literal digit is the 0 of "0x", which the skeleton keeps), so tokens with one
       skeleton mask alike up to their digits, and alike outright when the mask kept no digit
       ("10.3.135.42:9100" and "10.7.72.133:9100" both give "<*>"). Only such masks are stored;
    3. ``mask_summary(token)`` itself.

    ``dict.__getitem__`` calls ``__missing__`` only on a miss, so hits stay in C
    (``map(masks.__getitem__, tokens)``).
    """

    def __init__(self) -> None:
        super().__init__()
        self._by_skeleton: dict[str, str] = {}

    def __missing__(self, token: str) -> str:
        if token.isascii() and token.isalpha():
            # Plain ASCII words: every mask needs a digit or punctuation, and of the token
            # rules only the calendar names apply to a word.
            masked = WILDCARD if token in _CALENDAR else token
            self[token] = masked
            return masked
        if _PLAIN_VALUE.fullmatch(token):  # never a _CROSS_RISK token (its proof)
            masked = WILDCARD
        elif _CROSS_RISK.search(token):  # "3h" of "3h 25m" may be an address-like value
            masked = _CROSS_MARK
        elif value := _ADDRESS_VALUE.fullmatch(token):
            masked = value.group(1) + WILDCARD + value.group(2)
        else:
            masked = self._mask(token)
        self[token] = masked
        return masked

    def exact(self, token: str) -> str:
        """The mask of any token, ``_CROSS_RISK`` or not."""
        masked = self[token]
        return self._mask(token) if masked == _CROSS_MARK else masked

    def _mask(self, token: str) -> str:
        skeleton = token.translate(_SKELETON)
        masked = self._by_skeleton.get(skeleton)
        if masked is None:
            masked = mask_summary(token)
            if _HAS_DIGIT.search(masked) is None:
                self._by_skeleton[skeleton] = masked
        return masked


def _mask_distinct(summaries: Iterable[str]) -> dict[str, str]:
    """``mask_summary`` of every distinct non-empty summary, joined from its tokens' masks
    unless a mask may match across a space in it (see ``_CROSS_RISK``); those are masked whole,
    with a summary-level digit-skeleton cache (same argument as step 2 of ``_TokenMasks``).
    A summary holding a NUL itself takes the exact path too (a token's mask keeps it)."""
    token_masks = _TokenMasks()
    mask_token = token_masks.__getitem__
    by_skeleton: dict[str, str] = {}
    masked_of = {summary: " ".join(map(mask_token, summary.split())) for summary in summaries}
    # Those joined with a _CROSS_RISK token's marker (or holding the marker's character).
    for summary in [s for s, masked in masked_of.items() if _CROSS_MARK in masked]:
        if _CROSSES.search(summary) is None:
            masked_of[summary] = " ".join([token_masks.exact(t) for t in summary.split()])
            continue
        skeleton = summary.translate(_SKELETON)
        masked = by_skeleton.get(skeleton)
        if masked is None:
            masked = mask_summary(summary)
            if _HAS_DIGIT.search(masked) is None:
                by_skeleton[skeleton] = masked
        masked_of[summary] = masked
    return masked_of


def mine_templates(summaries: list[str], settings: MinerSettings = DEFAULT_SETTINGS) -> list[str]:
    """The template of every summary, in input order.

    Pure and deterministic: no database, no randomness, independent of input order. ``None``
    or empty summaries map to the empty template.
    """
    unique = dict.fromkeys(summaries)
    masked_of = _mask_distinct(summary for summary in unique if summary)
    # Weights count every summary, repeats included (map and Counter run in C).
    masked_weight = Counter(map(masked_of.__getitem__, filter(None, summaries)))
    distinct = sorted(m for m in masked_weight if m)
    forms = [_tokens(masked) for masked in distinct]
    weights = [masked_weight[m] for m in distinct]
    templates = _infer_positions(forms, distinct, weights, settings)
    template_of_masked = dict(zip(distinct, templates, strict=True))
    template_of_masked[""] = ""
    for summary in unique:
        if not summary:
            masked_of[summary] = ""
    return list(map(template_of_masked.__getitem__, map(masked_of.__getitem__, summaries)))


def template_id(template: str) -> str:
    """A stable 16-hex-digit id of a template (same text, same id, across builds)."""
    import hashlib

    return hashlib.blake2b(template.encode("utf-8"), digest_size=8).hexdigest()


def distinct_templates(summaries: Iterable[str]) -> int:
    """How many alert types a batch of summaries holds (convenience for reports and tests)."""
    return len(set(mine_templates(list(summaries))))
