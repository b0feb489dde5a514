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
``token_masks._TokenMasks``): a nightly batch holds ~10^5-10^6 distinct summaries but far fewer distinct
tokens once the values shaped like pod names or addresses are recognised, and the commonest
one-off tokens (numbers, addresses, pod names, plain words) take proven shortcuts. The result
is byte-identical to calling ``mask_summary`` on every summary (``tests/etl/test_grouping_masks.py``
checks the cached path against it).

Measured against drain3 on the real Prometheus rule templates and on Loghub-2k: see
``docs/grouping.md``.

Modules: ``masking`` (stage 1, ``mask_summary``), ``token_masks`` (stage 1 over a batch, by
token), ``positions`` (stage 2, ``MinerSettings``); this package joins them. ``etl.grouping``
re-exports the public names (``from etl.grouping import mine_templates`` is a contract).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

from etl.noise.templates.masking import WILDCARD, mask_summary
from etl.noise.templates.positions import (
    DEFAULT_SETTINGS,
    MinerSettings,
    _infer_positions,
    _tokens,
)
from etl.noise.templates.token_masks import _mask_distinct

__all__ = [
    "DEFAULT_SETTINGS",
    "WILDCARD",
    "MinerSettings",
    "distinct_templates",
    "mask_distinct",
    "mask_summary",
    "mine_templates",
    "template_id",
    "templates_of_masked",
]

# Stage 1 over a batch: each distinct non-empty summary's masked form. A function of the
# summary alone, so it can be remembered between batches (etl/noise/summary_masks.py).
mask_distinct = _mask_distinct


def mine_templates(summaries: list[str], settings: MinerSettings = DEFAULT_SETTINGS) -> list[str]:
    """The template of every summary, in input order.

    Pure and deterministic: no database, no randomness, independent of input order. ``None``
    or empty summaries map to the empty template.
    """
    unique = dict.fromkeys(summaries)
    masked_of = _mask_distinct(summary for summary in unique if summary)
    # Weights count every summary, repeats included (map and Counter run in C).
    masked_weight = Counter(map(masked_of.__getitem__, filter(None, summaries)))
    template_of_masked = templates_of_masked(masked_weight, settings)
    for summary in unique:
        if not summary:
            masked_of[summary] = ""
    return list(map(template_of_masked.__getitem__, map(masked_of.__getitem__, summaries)))


def templates_of_masked(
    weights: Mapping[str, int], settings: MinerSettings = DEFAULT_SETTINGS
) -> dict[str, str]:
    """Stage 2 alone: the template of each masked form, given how many summaries (repeats
    included) each stands for; the empty form's is empty. ``mine_templates`` is stage 1
    (``mask_distinct``) and this."""
    distinct = sorted(m for m in weights if m)
    forms = [_tokens(masked) for masked in distinct]
    templates = _infer_positions(forms, distinct, [weights[m] for m in distinct], settings)
    template_of_masked = dict(zip(distinct, templates, strict=True))
    template_of_masked[""] = ""
    return template_of_masked


def template_id(template: str) -> str:
    """A stable 16-hex-digit id of a template (same text, same id, across builds)."""
    import hashlib

    return hashlib.blake2b(template.encode("utf-8"), digest_size=8).hexdigest()


def distinct_templates(summaries: Iterable[str]) -> int:
    """How many alert types a batch of summaries holds (convenience for reports and tests)."""
    return len(set(mine_templates(list(summaries))))
