"""pagerlens dashboard: the weekly reliability review.

Run with ``streamlit run dashboard/app.py -- --db PATH`` (or ``pagerlens dashboard``); without
``--db`` the warehouse is ``$PAGERLENS_DB``, else ``./pagerlens.duckdb``. This entry point sets
up the page and the navigation; each page (``dashboard/views/*.py``, layout only) starts with
:func:`dashboard.widgets.start_page`, which checks the warehouse and draws the shared filters.
(Elements drawn by the entry point itself are not re-sent on reruns under AppTest, so the
filters live with the pages. The folder is not called ``pages/``: Streamlit would treat it as an
old-style multipage app and run the page files without this entry point.)
"""

from __future__ import annotations

import gc
import sys
from pathlib import Path

# `streamlit run` puts this file's folder on sys.path, not the repository root; a plain
# checkout (no editable install) still needs `import dashboard` and `import etl` to work.
_ROOT = Path(__file__).resolve().parent.parent
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

import streamlit as st  # noqa: E402

VIEWS_DIR = Path(__file__).resolve().parent / "views"
# (file, title, url path, icon). The first page is the default.
PAGES = [
    ("overview.py", "Overview", "overview", ":material/dashboard:"),
    ("now.py", "Now", "now", ":material/bolt:"),
    ("services_teams.py", "Services and teams", "services", ":material/lan:"),
    ("responders.py", "Responders", "responders", ":material/group:"),
    ("noise.py", "Noise and recommendations", "noise", ":material/notifications_off:"),
    ("alert_groups.py", "Alert groups", "alert-groups", ":material/hub:"),
    ("impact.py", "Business impact", "impact", ":material/trending_down:"),
    ("reports.py", "Reports", "reports", ":material/description:"),
    ("sync_data.py", "Data", "data", ":material/database:"),
]


@st.cache_resource(show_spinner=False)
def freeze_long_lived_objects() -> None:
    """Exempt the libraries' objects from garbage collection (once per process: cached).

    Streamlit runs a full ``gc.collect()`` after every script run (``runner.postScriptGC``),
    and the tracked objects of pandas, plotly, DuckDB and Streamlit itself made that take about
    0.1 s, paid on every filter change before the browser heard that the run was over
    (docs/benchmarks.md, Dashboard). Objects alive after the imports are long-lived, so they
    move to the permanent generation (``gc.freeze``); each collection then only visits what
    later runs created, and still frees their garbage.
    """
    import dashboard.charts  # noqa: F401 - the heavy imports (pandas, plotly, DuckDB)
    import dashboard.data  # noqa: F401

    gc.collect()  # do not freeze garbage that already exists
    gc.freeze()


def main() -> None:
    """Configure the page and run the selected one."""
    freeze_long_lived_objects()
    st.set_page_config(page_title="pagerlens", page_icon=":material/monitoring:", layout="wide")
    navigation = st.navigation(
        [
            st.Page(VIEWS_DIR / file, title=title, url_path=url, icon=icon, default=i == 0)
            for i, (file, title, url, icon) in enumerate(PAGES)
        ]
    )
    navigation.run()


main()
