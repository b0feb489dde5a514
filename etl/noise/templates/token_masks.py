"""Stage 1 over a batch: ``mask_summary`` of every distinct summary, computed per token with
a cache and proven shortcuts (``_mask_distinct``); byte-identical to masking each summary
whole (``tests/etl/test_grouping_masks.py`` fuzzes it)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from etl.noise.templates.masking import (
    _CALENDAR,
    _HAS_DIGIT,
    _SKELETON,
    WILDCARD,
    mask_summary,
)

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
