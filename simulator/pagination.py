"""Classic pagination as PagerDuty does it: ``limit`` (default 25, clamped to 100),
``offset``, ``more``, and ``total`` only when ``total=true``; ``offset + limit`` past 10,000
is refused."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from simulator.protocol import Query, invalid

DEFAULT_LIMIT = 25
MAX_LIMIT = 100
# PagerDuty refuses classic pagination past this many records (offset + limit).
MAX_OFFSET_PLUS_LIMIT = 10_000


@dataclass(frozen=True)
class Page:
    offset: int
    limit: int
    want_total: bool

    @classmethod
    def parse(cls, query: Query) -> Page:
        try:
            limit = int(query.one("limit") or DEFAULT_LIMIT)
            offset = int(query.one("offset") or 0)
        except ValueError:
            raise invalid("limit and offset must be integers") from None
        if limit < 1 or offset < 0:
            raise invalid("limit must be positive and offset must not be negative")
        limit = min(limit, MAX_LIMIT)  # PagerDuty clamps rather than refusing
        if offset + limit > MAX_OFFSET_PLUS_LIMIT:
            raise invalid(
                f"Offset + limit must not exceed {MAX_OFFSET_PLUS_LIMIT}; "
                "narrow the query (for example a shorter since/until window)"
            )
        return cls(offset, limit, query.flag("total"))

    def body(self, wrapper: str, fragments: Sequence[bytes], count: int) -> bytes:
        """The wrapped list body; ``fragments`` is this page, ``count`` all matching records."""
        total = str(count).encode() if self.want_total else b"null"
        more = b"true" if self.offset + len(fragments) < count else b"false"
        return b"".join(
            (
                b'{"',
                wrapper.encode(),
                b'":[',
                b",".join(fragments),
                b'],"limit":',
                str(self.limit).encode(),
                b',"offset":',
                str(self.offset).encode(),
                b',"more":',
                more,
                b',"total":',
                total,
                b"}",
            )
        )

    def slice(self, count: int) -> range:
        return range(self.offset, min(self.offset + self.limit, count))
