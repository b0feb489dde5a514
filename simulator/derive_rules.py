"""Regenerate the simulator's packaged alert rules from the original rule collections.

The simulated PagerDuty renders alert summaries from real Prometheus alert rules. It ships
the few fields it uses (rule name, severity, ``for``, source and summary template) in
``simulator/data/alert_rules.json``, so every copy of pagerlens simulates the same
account whether or not the original collections are at hand. This script derives that file
from the originals (the JSON exports in ``shared/realdata/alert_templates/``, see their
SOURCES.md); attribution is in ``simulator/data/NOTICE.md``.

Example::

    python -m simulator.derive_rules ../shared/realdata/alert_templates
    python -m simulator.derive_rules ../shared/realdata/alert_templates --check
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

RULES_FILE = Path(__file__).resolve().parent / "data" / "alert_rules.json"

# The original exports, in the order the simulator reads them (order decides the account).
ORIGINALS: tuple[tuple[str, str, str], ...] = (
    (
        "awesome_prometheus_alerts_rules.json",
        "samber/awesome-prometheus-alerts, dist/rules/**/*.yml",
        "CC BY 4.0",
    ),
    (
        "kube_prometheus_rules.json",
        "prometheus-operator/kube-prometheus, manifests/*-prometheusRule.yaml",
        "Apache-2.0",
    ),
)


def source_of(rule: dict) -> str:
    """The rule's collection folder (awesome-prometheus-alerts) or manifest component."""
    f = rule.get("file") or ""
    if f.startswith("dist/rules/"):
        return f.split("/")[2]
    if f.startswith("manifests/"):
        return f.split("/")[1].split("-")[0]
    return rule.get("group") or "unknown"


def derive(folder: Path) -> dict:
    """The packaged document: provenance plus one compact row per rule with a summary."""
    sources = []
    rules = []
    for name, origin, licence in ORIGINALS:
        doc = json.loads((folder / name).read_text(encoding="utf-8"))
        sources.append({"file": name, "origin": doc.get("_source") or origin, "licence": licence})
        for r in doc["rules"]:
            summary = (r.get("summary_template") or "").strip()
            if not summary:
                continue
            rules.append(
                {
                    "source": source_of(r),
                    "alert": r["alert"],
                    "severity": (r.get("severity") or "warning").lower(),
                    "for": r.get("for") or "",
                    "summary_template": summary,
                }
            )
    return {
        "_about": "Derived by `python -m simulator.derive_rules` from the rule collections "
        "named in `sources`; attribution and licences in NOTICE.md beside this file.",
        "sources": sources,
        "rules": rules,
    }


def render(doc: dict) -> str:
    """The file's exact text: one rule per line, so a change reads well in a diff."""
    head = {k: v for k, v in doc.items() if k != "rules"}
    lines = [json.dumps(r, ensure_ascii=False, sort_keys=True) for r in doc["rules"]]
    text = json.dumps(head, ensure_ascii=False, indent=1, sort_keys=True)[:-2]
    return text + ',\n "rules": [\n  ' + ",\n  ".join(lines) + "\n ]\n}\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path, help="the folder with the original JSON exports")
    parser.add_argument("--out", type=Path, default=RULES_FILE)
    parser.add_argument(
        "--check", action="store_true", help="exit 1 when the packaged file is out of date"
    )
    args = parser.parse_args(argv)
    text = render(derive(args.folder))
    if args.check:
        current = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
        if current != text:
            print(f"{args.out} is out of date: rerun without --check", file=sys.stderr)
            return 1
        print(f"{args.out} is up to date")
        return 0
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out} ({len(json.loads(text)['rules'])} rules)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
