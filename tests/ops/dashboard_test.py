#!/usr/bin/python3
"""The Grafana dashboard's queries work: depthd and Debian's Prometheus on loopback ports (a
config written by the test, scraping every second, with deploy/prometheus/rules.yml), a short
load of every kind of job (bench/load's mix), then every panel's PromQL evaluated through
Prometheus' HTTP API must return data (at least one finite value), the $instance variable's
query must list the depthd, every alerting and recording rule must evaluate without error
against depthd's real series, and the picture of the panels must render.

usage: dashboard_test.py DEPTHD_BINARY PROTO_DIR [OUT_DIR]
Exit status 77 (skipped) when prometheus or another prerequisite is missing.
"""
import argparse
import json
import math
import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tools/dashboard"))
sys.path.insert(0, os.path.join(ROOT, "bench/load"))

import dashboard  # noqa: E402
import depthd_load  # noqa: E402


def main():
    depthd, proto_dir = sys.argv[1:3]
    out_dir = sys.argv[3] if len(sys.argv) > 3 else "."
    if shutil.which("prometheus") is None and not os.path.exists("/usr/bin/prometheus"):
        print("dashboard_test: SKIPPED: prometheus is missing (Debian: apt-get install prometheus)")
        return 77
    json_path = os.path.join(out_dir, "dashboard_test.json")
    svg_path = os.path.join(out_dir, "dashboard_test.svg")
    try:
        results = dashboard.capture(argparse.Namespace(
            depthd=depthd, proto_dir=proto_dir, dashboard=dashboard.DASHBOARD, rules=dashboard.RULES,
            clients="2", duration=25, mix=depthd_load.DEFAULT_MIX, threads=1, scrape_interval=1.0,
            step=1.0, json=json_path, svg=svg_path))
    except depthd_load.Prerequisite as missing:
        print(f"dashboard_test: SKIPPED: {missing}")
        return 77

    failures = []
    with open(dashboard.DASHBOARD) as f:
        panels = dashboard.panel_queries(json.load(f))
    checked = 0
    for panel, result in zip(panels, results["panels"]):
        assert panel[0]["id"] == result["id"]
        for target in result["targets"]:
            checked += 1
            finite = [v for s in target["series"] for _, v in s["values"] if not (math.isnan(v) or math.isinf(v))]
            legends = ", ".join(s["legend"] for s in target["series"]) or "no series"
            print(f"  [{'ok' if finite else '--'}] {result['title']} / {target['refId']}: "
                  f"{len(target['series'])} series, {len(finite)} values ({legends})")
            if not finite:
                failures.append(f"panel {result['title']!r} target {target['refId']} returned no data: {target['expr']}")
    if not results["instances"]:
        failures.append("the $instance variable's query (depthd_build_info's instances) returned nothing")
    for rule in results["rules"]:
        if rule["health"] != "ok" or rule["lastError"]:
            failures.append(f"rule {rule['name']} ({rule['group']}): health {rule['health']} {rule['lastError']}")
    print(f"dashboard_test: {checked} queries of {len(results['panels'])} panels, {len(results['rules'])} rules "
          f"({', '.join(sorted({r['name'] + ':' + r['health'] for r in results['rules']}))})")
    print(f"dashboard_test: load {results['load']['scenarios']}")
    with open(svg_path) as f:
        svg = f.read()
    missing_titles = [p["title"] for p, _ in panels if dashboard.escape(p["title"]) not in svg]
    if missing_titles:
        failures.append(f"the picture lacks panels {missing_titles}")
    if failures:
        print("dashboard_test: FAILED:\n  " + "\n  ".join(failures))
        print("0 passed, 1 failed")
        return 1
    print(f"dashboard_test: picture {svg_path} ({len(svg)} bytes)")
    print("1 passed, 0 failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
