"""The weekly report's PDF on the canonical warehouse (needs Chromium: marked browser): tiles
and team rows equal figures computed from the incidents mart, every page carries its header,
pages are drawn, charts are vectors, definitions are quoted."""

from __future__ import annotations

import re
import subprocess

import pytest

from etl.queries import definitions as defs
from reports import weekly
from reports.charts import format_duration
from tests.reports.helpers import (
    REPORT_WEEK,
    flat,
    incidents_of_week,
    pdf_pages,
    query,
    tile_value,
)

pytestmark = pytest.mark.browser


def test_pdf_figures_equal_the_warehouse(report, pipeline_db):
    pages = pdf_pages(report[f"pagerlens-{REPORT_WEEK}.pdf"])
    text = flat("\n".join(pages))
    week = incidents_of_week(pipeline_db)
    assert tile_value(pages[0], "Incidents") == str(len(week))
    assert tile_value(pages[0], "MTTA (mean)") == format_duration(
        week["seconds_to_first_ack"].mean()
    )
    assert tile_value(pages[0], "MTTR (mean)") == format_duration(week["seconds_to_resolve"].mean())
    assert tile_value(pages[0], "MTTR (p90)") == format_duration(
        week["seconds_to_resolve"].quantile(0.9)
    )
    # Every team of the week: its name followed by its incident count and MTTA mean (a long
    # name wraps in its cell: the rest of it follows the row in the text).
    for team_name, team in week.groupby("team_name"):
        words = [re.escape(w) for w in team_name.split()]
        name = words[0] + "".join(f"(?: {w}" for w in words[1:]) + ")?" * (len(words) - 1)
        assert re.search(
            rf"{name} {len(team)} (?:[+-±]\S* )?"
            rf"{re.escape(format_duration(team['seconds_to_first_ack'].mean()))}",
            text,
        ), team_name


def test_every_page_carries_week_freshness_and_page_number(report, pipeline_db):
    pages = pdf_pages(report[f"pagerlens-{REPORT_WEEK}.pdf"])
    ((finished,),) = query(
        pipeline_db, "select max(finished_at) from _sync_runs where status = 'ok'"
    )
    assert len(pages) >= 3
    for number, page in enumerate(pages, start=1):
        text = flat(page)
        assert f"pagerlens weekly review · {REPORT_WEEK}" in text
        assert f"data as of {finished:%Y-%m-%d %H:%M} UTC" in text
        assert f"Page {number} of {len(pages)}" in text


def test_pdf_pages_are_not_blank(report, tmp_path):
    pdf = report[f"pagerlens-{REPORT_WEEK}.pdf"]
    subprocess.run(["pdftoppm", "-r", "30", "-gray", str(pdf), str(tmp_path / "page")], check=True)
    from PIL import Image, ImageStat

    images = sorted(tmp_path.glob("page*.pgm"))
    assert len(images) == len(pdf_pages(pdf))
    for image in images:
        stat = ImageStat.Stat(Image.open(image))
        assert stat.var[0] > 50, image.name  # a blank page has (almost) zero variance


def test_pdf_embeds_charts_as_vector_graphics(report):
    from pypdf import PdfReader

    reader = PdfReader(report[f"pagerlens-{REPORT_WEEK}.pdf"])
    # SVG charts are drawn as vectors; the one bitmap is the sleep heatmap's cells, which plotly
    # itself draws as an image (pypdf lists the shared resource on every page).
    images = {image.name for page in reader.pages for image in page.images}
    assert len(images) <= 1
    text = flat(" ".join(page.extract_text() for page in reader.pages))
    assert "Week starting" in text  # axis title from inside an SVG chart


def test_definitions_are_quoted_from_the_metrics_document(report):
    text = flat("\n".join(pdf_pages(report[f"pagerlens-{REPORT_WEEK}.pdf"])))
    quoted = defs.definitions(weekly.DEFINED_COLUMNS)
    found = {k: v for k, v in quoted.items() if v}
    if not found:
        pytest.skip("docs/metrics.md has none of the report's metrics yet")
    for name, paragraph in found.items():
        words = paragraph.replace("`", "").split()[:12]
        assert " ".join(words) in text, name


def test_stale_open_majors_are_warned_about(anonymized, pipeline_db):
    text = flat(pdf_pages(anonymized[f"pagerlens-{REPORT_WEEK}.pdf"])[0])
    numbers = [n for (n,) in query(pipeline_db, "select incident_number from stale_open_majors")]
    assert numbers, "the simulated account has stale open majors"
    plural = "s" if len(numbers) > 1 else ""
    assert f"{len(numbers)} major incident{plural} still open" in text
    for number in numbers:
        assert f"#{number}" in text
