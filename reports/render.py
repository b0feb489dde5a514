"""Rendering: plotly figures to SVG with kaleido, and the HTML template to PDF with WeasyPrint.

Kaleido 1.x drives a real Chromium (Debian's ``/usr/bin/chromium``). Starting it costs about two
seconds, a figure afterwards a fraction of a second, so a report exports all its figures through
one browser (:func:`figures_to_svg`) rather than calling ``fig.to_image`` per chart. MathJax is
off: it would be fetched from a CDN, and there is no internet (nor any LaTeX in our labels).

The export runs on its own thread with its own event loop, so it also works when the caller
already runs an asyncio loop (Streamlit, Jupyter).
"""

from __future__ import annotations

import asyncio
import base64
import html
import math
import os
import re
import shutil
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import jinja2
import markupsafe
import plotly.graph_objects as go

TEMPLATES_DIR = Path(__file__).with_name("templates")
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")


class RenderError(RuntimeError):
    """A chart or the PDF could not be rendered (no browser, browser crashed, bad template)."""


@dataclass(frozen=True)
class Chart:
    """A figure to export, with its size in CSS pixels."""

    figure: go.Figure
    width: int = 720
    height: int | None = None

    @property
    def pixel_height(self) -> int:
        return int(self.height or self.figure.layout.height or 320)


def browser_path() -> str | None:
    """The Chromium kaleido should use: ``BROWSER_PATH``, Debian's chromium, or kaleido's own."""
    if os.environ.get("BROWSER_PATH"):
        return os.environ["BROWSER_PATH"]
    for candidate in CHROMIUM_CANDIDATES:
        if Path(candidate).exists():
            return candidate
    return shutil.which("chromium")


async def _export(charts: Sequence[Chart], path: str | None) -> list[bytes]:
    from kaleido import Kaleido

    kwargs: dict[str, object] = {"mathjax": False}
    if path:
        kwargs["path"] = path
    async with Kaleido(**kwargs) as k:
        out = []
        for chart in charts:
            out.append(
                await k.calc_fig(
                    chart.figure,
                    opts={
                        "format": "svg",
                        "width": chart.width,
                        "height": chart.pixel_height,
                    },
                )
            )
        return out


def figures_to_svg(charts: Sequence[Chart]) -> list[str]:
    """Export every chart to an SVG document through one browser; same order as ``charts``."""
    if not charts:
        return []
    result: dict[str, object] = {}

    def run() -> None:
        try:
            result["svgs"] = asyncio.run(_export(charts, browser_path()))
        except BaseException as exc:  # re-raised on the caller's thread below
            result["error"] = exc

    worker = threading.Thread(target=run, name="pagerlens-kaleido", daemon=True)
    worker.start()
    worker.join()
    if "error" in result:
        exc = result["error"]
        raise RenderError(
            f"chart export failed ({type(exc).__name__}: {exc}); is Chromium "
            f"installed (make sysdeps)?"
        ) from exc
    return [svg.decode("utf-8") for svg in result["svgs"]]  # type: ignore[union-attr]


def sparkline_svg(
    values: Sequence[float | None],
    *,
    color: str = "#444444",
    width: int = 160,
    height: int = 40,
    pad: float = 3.0,
) -> str:
    """A sparkline as a small standalone SVG: a polyline per run of known values, last point dotted.

    The report draws ten of these; through the browser each would cost as much as a full chart,
    so they are drawn here directly (the dashboard uses ``reports.charts.sparkline``, which
    shows the same line). Missing values break the line, as in plotly with ``connectgaps=False``.
    """
    points = [
        (i, float(v)) for i, v in enumerate(values) if v is not None and not math.isnan(float(v))
    ]
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}">'
    )
    if not points:
        return head + "</svg>"
    low = min(v for _, v in points)
    high = max(v for _, v in points)
    span_x = max(len(values) - 1, 1)
    span_y = (high - low) or 1.0

    def xy(i: int, v: float) -> tuple[float, float]:
        x = pad + (width - 2 * pad) * i / span_x
        # A flat series sits in the middle rather than on the floor.
        y = height / 2 if high == low else height - pad - (height - 2 * pad) * (v - low) / span_y
        return round(x, 2), round(y, 2)

    runs: list[list[tuple[float, float]]] = []
    previous = None
    for i, v in points:
        if previous is None or i != previous + 1:
            runs.append([])
        runs[-1].append(xy(i, v))
        previous = i
    color = html.escape(color, quote=True)
    body = []
    for run in runs:
        if len(run) == 1:
            body.append(f'<circle cx="{run[0][0]}" cy="{run[0][1]}" r="1" fill="{color}"/>')
        else:
            coords = " ".join(f"{x},{y}" for x, y in run)
            body.append(
                f'<polyline points="{coords}" fill="none" stroke="{color}" '
                f'stroke-width="1.5" stroke-linejoin="round"/>'
            )
    if points[-1][0] == len(values) - 1:
        x, y = xy(*points[-1])
        body.append(f'<circle cx="{x}" cy="{y}" r="2.5" fill="{color}"/>')
    return head + "".join(body) + "</svg>"


def svg_data_uri(svg: str) -> str:
    """An SVG document as a ``data:`` URI for an ``<img>`` (keeps it vector in the PDF)."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def template_environment() -> jinja2.Environment:
    """Jinja2 with autoescaping on for every template: data text is always escaped."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["inline_code"] = inline_code
    return env


def inline_code(text: object) -> markupsafe.Markup:
    """Escape ``text``, then show its Markdown ``code spans`` as ``<code>`` (nothing else)."""
    escaped = str(markupsafe.escape("" if text is None else str(text)))
    return markupsafe.Markup(re.sub(r"`([^`]+)`", r"<code>\1</code>", escaped))


def render_html(template_name: str, context: dict[str, object]) -> str:
    """Render one template of ``reports/templates`` with autoescaping."""
    try:
        return template_environment().get_template(template_name).render(**context)
    except jinja2.TemplateError as exc:
        raise RenderError(f"report template {template_name}: {exc}") from exc


def html_to_pdf(html: str, out_path: Path) -> Path:
    """Write ``html`` as a PDF with WeasyPrint (stylesheets resolved from the templates folder)."""
    import weasyprint

    out_path.parent.mkdir(parents=True, exist_ok=True)
    document = weasyprint.HTML(string=html, base_url=str(TEMPLATES_DIR) + "/")
    tmp = out_path.with_name(out_path.name + ".part")
    try:
        document.write_pdf(str(tmp))
        os.replace(tmp, out_path)
    finally:
        tmp.unlink(missing_ok=True)
    return out_path
