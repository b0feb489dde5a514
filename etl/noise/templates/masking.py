"""Stage 1 of template mining: the value shapes regular expressions know, masked as ``<*>``
per summary (``mask_summary``) and per whitespace token (``_mask_token``); see
:mod:`etl.noise.templates`."""

from __future__ import annotations

import re
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
