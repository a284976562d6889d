#!/usr/bin/python3
"""The depthd Grafana dashboard against a live depthd and Prometheus, and its picture.

  capture  starts depthd and Debian's Prometheus on loopback ports (a config written here,
           scraping every second, with deploy/prometheus/rules.yml), runs the load mix of
           bench/load/depthd_load.py, then evaluates every panel's PromQL through Prometheus'
           HTTP API (query_range over the load) and writes the results as JSON, with the state
           of every alerting and recording rule.
  render   draws the panels from such a JSON file as an SVG laid out as the dashboard is
           (gridPos), in Grafana's dark theme: what an operator sees.

  tools/dashboard/dashboard.py capture --depthd build/server/depthd --proto_dir proto \\
      --clients 1,2,4 --duration 240 --json /tmp/dashboard.json --svg docs/dashboard.svg
  tools/dashboard/dashboard.py render /tmp/dashboard.json docs/dashboard.svg

Grafana's variables are substituted as Grafana would: $instance by a regex of every instance,
$__rate_interval by max(4 x scrape interval, step + scrape interval).
"""
import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from xml.sax.saxutils import escape

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DASHBOARD = os.path.join(ROOT, "deploy/grafana/dashboards/depthd.json")
RULES = os.path.join(ROOT, "deploy/prometheus/rules.yml")
sys.path.insert(0, os.path.join(ROOT, "bench/load"))


def panel_queries(dashboard):
    """[(panel, [target, ...])] of every panel with PromQL targets, in the dashboard's order."""
    out = []
    for panel in dashboard["panels"]:
        if panel.get("type") == "row":
            continue
        targets = [t for t in panel.get("targets", []) if t.get("expr")]
        out.append((panel, targets))
    return out


def substitute(expr, rate_interval, instance_regex):
    return expr.replace("$__rate_interval", rate_interval).replace("$instance", instance_regex)


class Prometheus:
    """Debian's prometheus on a loopback port with a config written here."""

    def __init__(self, work, targets, rules, scrape_interval="1s"):
        binary = shutil.which("prometheus") or "/usr/bin/prometheus"
        if not os.path.exists(binary):
            raise FileNotFoundError("prometheus is missing (Debian: apt-get install prometheus)")
        from depthd_load import free_port
        self.port = free_port()
        self.dir = os.path.join(work, "prometheus")
        os.makedirs(self.dir, exist_ok=True)
        shutil.copy(rules, os.path.join(self.dir, "rules.yml"))
        config = os.path.join(self.dir, "prometheus.yml")
        with open(config, "w") as f:
            f.write(f"""global:
  scrape_interval: {scrape_interval}
  evaluation_interval: {scrape_interval}
rule_files:
  - rules.yml
scrape_configs:
  - job_name: depthd
    metrics_path: /metrics
    static_configs:
      - targets: {json.dumps(targets)}
""")
        self.log_path = os.path.join(self.dir, "prometheus.log")
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [binary, f"--config.file={config}", f"--storage.tsdb.path={self.dir}/data",
             f"--web.listen-address=127.0.0.1:{self.port}", "--storage.tsdb.retention.time=2h"],
            stdout=self._log, stderr=self._log)
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"prometheus exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/-/ready", timeout=1) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError("prometheus did not become ready")

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def api(self, path, **params):
        query = urllib.parse.urlencode(params, doseq=True)
        with urllib.request.urlopen(f"{self.url}/api/v1/{path}?{query}", timeout=30) as r:
            body = json.load(r)
        if body.get("status") != "success":
            raise RuntimeError(f"{path} {params}: {body}")
        return body["data"]

    def log_tail(self, lines=20):
        with open(self.log_path, "rb") as f:
            return b"\n".join(f.read().splitlines()[-lines:]).decode(errors="replace")

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self._log.close()


def evaluate(prometheus, dashboard, start, end, step, scrape_seconds):
    """Every panel's targets over [start, end]: the JSON that render() draws."""
    rate_interval = f"{max(4 * scrape_seconds, step + scrape_seconds):g}s"
    instances = prometheus.api("label/instance/values", **{"match[]": 'depthd_build_info{job="depthd"}'})
    instance_regex = "|".join(i.replace(".", "\\\\.") for i in instances) or ".*"
    panels = []
    for panel, targets in panel_queries(dashboard):
        entry = {"id": panel["id"], "title": panel["title"], "type": panel["type"],
                 "gridPos": panel["gridPos"],
                 "unit": panel.get("fieldConfig", {}).get("defaults", {}).get("unit", "short"),
                 "stack": panel.get("fieldConfig", {}).get("defaults", {}).get("custom", {})
                               .get("stacking", {}).get("mode", "none") == "normal",
                 "targets": []}
        for target in targets:
            expr = substitute(target["expr"], rate_interval, instance_regex)
            data = prometheus.api("query_range", query=expr, start=f"{start:.3f}", end=f"{end:.3f}", step=f"{step:g}")
            series = []
            for s in data["result"]:
                legend = target.get("legendFormat", "") or json.dumps(s["metric"])
                for key, value in s["metric"].items():
                    legend = legend.replace("{{" + key + "}}", value)
                series.append({"labels": s["metric"], "legend": legend,
                               "values": [[float(t), float(v)] for t, v in s["values"]]})
            entry["targets"].append({"refId": target["refId"], "expr": expr, "resultType": data["resultType"],
                                     "series": series})
        panels.append(entry)
    rules = []
    for group in prometheus.api("rules")["groups"]:
        for rule in group["rules"]:
            rules.append({"group": group["name"], "name": rule["name"], "type": rule["type"],
                          "health": rule["health"], "lastError": rule.get("lastError", ""),
                          "state": rule.get("state", "")})
    return {"title": dashboard["title"], "start": start, "end": end, "step": step,
            "rate_interval": rate_interval, "instances": instances, "panels": panels, "rules": rules}


def capture(args):
    import depthd_load
    work = tempfile.mkdtemp(prefix="depthd_dashboard_")
    server = prometheus = None
    try:
        pb2, pb2_grpc, health_pb2, health_pb2_grpc = depthd_load.generate_stubs(args.proto_dir, work)
        env = {"pb2": pb2, "pb2_grpc": pb2_grpc, "videos": depthd_load.make_videos(work),
               "live_frames": depthd_load.make_live_frames(),
               "mix": depthd_load.parse_mix(args.mix)}
        server = depthd_load.Depthd(args.depthd, work, args.threads, [])
        server.wait_serving(health_pb2, health_pb2_grpc)
        env["address"] = server.address
        prometheus = Prometheus(work, [server.metrics_address], args.rules, f"{args.scrape_interval:g}s")
        # Wait for the first scrape, so that the graphs start from depthd's zeros.
        while not prometheus.api("query", query='up{job="depthd"} == 1')["result"]:
            time.sleep(0.2)
        start = time.time()
        tally = depthd_load.Tally()
        load_args = argparse.Namespace(res=[64, 96], deadline=1.0)
        phases = [int(c) for c in args.clients.split(",")]
        for k, clients in enumerate(phases):
            print(f"dashboard: {clients} clients for {args.duration / len(phases):.0f} s", flush=True)
            depthd_load.run_phase(load_args, env, tally, clients, args.duration / len(phases), 7 + k)
        time.sleep(max(5, 4 * args.scrape_interval))  # a few scrapes and rule evaluations after the load
        end = time.time()
        step = args.step or max(1.0, round((end - start) / 200))
        with open(args.dashboard) as f:
            dashboard = json.load(f)
        results = evaluate(prometheus, dashboard, start, end, step, args.scrape_interval)
        results["load"] = {"clients": args.clients, "seconds": args.duration,
                           "scenarios": dict(tally.scenarios),
                           "calls": {f"{m} {c}": n for (m, c), n in sorted(tally.calls.items())}}
        if args.json:
            with open(args.json, "w") as f:
                json.dump(results, f)
        if args.svg:
            with open(args.svg, "w") as f:
                f.write(render(results))
        return results
    finally:
        if prometheus is not None:
            prometheus.stop()
        if server is not None:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)


# -- the picture -------------------------------------------------------------------------------

PALETTE = ["#73BF69", "#F2CC0C", "#8AB8FF", "#FF780A", "#F2495C", "#5794F2", "#B877D9", "#FADE2A",
           "#37872D", "#C4162A", "#1F60C4", "#8F3BB8"]
BG, PANEL, GRID, TEXT, DIM = "#111217", "#181b1f", "#2c3235", "#ccccdc", "#8e8e9a"
COL, ROW = 62, 30  # pixels per grid column (24 across) and per grid row


def fmt(value, unit):
    """A value as Grafana shows it in that unit (short form)."""
    if value is None or math.isnan(value):
        return "-"
    if unit == "percentunit":
        return f"{value * 100:.1f}%"
    if unit == "bytes":
        for suffix, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
            if abs(value) >= size:
                return f"{value / size:.3g} {suffix}"
        return f"{value:.3g} B"
    if unit == "s":
        if value == 0:
            return "0 s"
        if abs(value) < 1:
            return f"{value * 1000:.3g} ms"
        return f"{value:.3g} s"
    suffix = {"reqps": "/s", "fps": " fps"}.get(unit, "")
    for mark, size in (("M", 1e6), ("k", 1e3)):
        if abs(value) >= size:
            return f"{value / size:.3g}{mark}{suffix}"
    return f"{value:.3g}{suffix}"


def nice_ticks(top, count=4, unit="short"):
    if top <= 0 or math.isnan(top):
        return [0, 1]
    if unit == "bytes":  # steps of a power of 1024 times 1, 2, 2.5 or 5
        scale = 1 << (10 * int(math.log(max(top, 1), 1024)))
        return [t * scale for t in nice_ticks(top / scale, count)]
    raw = top / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    ticks = [0.0]
    while ticks[-1] < top - 1e-12:
        ticks.append(ticks[-1] + step)
    return ticks


def finite(values):
    return [(t, v) for t, v in values if not (math.isnan(v) or math.isinf(v))]


def render_timeseries(out, panel, x, y, w, h, start, end):
    series = [s for t in panel["targets"] for s in t["series"]]
    cols = max(1, min(3, w // 220))
    left, right, top, legend_h = x + 52, x + w - 12, y + 30, 18 * ((len(series) + cols - 1) // cols) + 6
    bottom = y + h - legend_h - 18
    if panel["stack"]:
        # Grafana stacks by adding each series onto the ones before, sample time by sample time.
        times = sorted({t for s in series for t, _ in finite(s["values"])})
        acc = {t: 0.0 for t in times}
        stacked = []
        for s in series:
            values = dict(finite(s["values"]))
            base = dict(acc)
            for t in times:
                acc[t] += values.get(t, 0.0)
            stacked.append((s, [(t, base[t], acc[t]) for t in times]))
        peak = max(acc.values(), default=0.0)
    else:
        peak = max((v for s in series for _, v in finite(s["values"])), default=0.0)
    ticks = nice_ticks(peak * 1.05 if peak > 0 else 0, unit=panel["unit"])
    ymax = ticks[-1]

    def px(t):
        return left + (t - start) / max(end - start, 1e-9) * (right - left)

    def py(v):
        return bottom - v / ymax * (bottom - top)

    for v in ticks:
        out.append(f'<line x1="{left}" y1="{py(v):.1f}" x2="{right}" y2="{py(v):.1f}" stroke="{GRID}" stroke-width="1"/>')
        out.append(f'<text x="{left - 6}" y="{py(v) + 4:.1f}" fill="{DIM}" font-size="10" text-anchor="end">'
                   f'{escape(fmt(v, panel["unit"]))}</text>')
    span = end - start
    tick_step = next(s for s in (10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200) if span / s <= 6)
    t = math.ceil(start / tick_step) * tick_step
    while t <= end:
        out.append(f'<text x="{px(t):.1f}" y="{bottom + 13}" fill="{DIM}" font-size="10" text-anchor="middle">'
                   f'{time.strftime("%H:%M:%S", time.localtime(t))}</text>')
        t += tick_step
    for i, s in enumerate(series):
        color = PALETTE[i % len(PALETTE)]
        if panel["stack"]:
            points = stacked[i][1]
            if not points:
                continue
            upper = " ".join(f"{px(t):.1f},{py(hi):.1f}" for t, _, hi in points)
            lower = " ".join(f"{px(t):.1f},{py(lo):.1f}" for t, lo, _ in reversed(points))
            out.append(f'<polygon points="{upper} {lower}" fill="{color}" fill-opacity="0.35" stroke="none"/>')
            out.append(f'<polyline points="{upper}" fill="none" stroke="{color}" stroke-width="1.2"/>')
        else:
            # A gap in the data (NaN: no job in the window) is a gap in the line, as in Grafana.
            runs, run = [], []
            for t, v in s["values"]:
                if math.isnan(v) or math.isinf(v):
                    if run:
                        runs.append(run)
                    run = []
                else:
                    run.append((t, v))
            if run:
                runs.append(run)
            for run in runs:
                points = " ".join(f"{px(t):.1f},{py(v):.1f}" for t, v in run)
                if len(run) > 1:
                    area = f"{px(run[0][0]):.1f},{py(0):.1f} {points} {px(run[-1][0]):.1f},{py(0):.1f}"
                    out.append(f'<polygon points="{area}" fill="{color}" fill-opacity="0.08" stroke="none"/>')
                out.append(f'<polyline points="{points}" fill="none" stroke="{color}" stroke-width="1.2"/>')
    for i, s in enumerate(series):
        lx = x + 12 + (i % cols) * ((w - 24) // cols)
        ly = bottom + 30 + (i // cols) * 18
        out.append(f'<rect x="{lx}" y="{ly - 8}" width="12" height="4" fill="{PALETTE[i % len(PALETTE)]}"/>')
        room = max(8, ((w - 24) // cols - 20) // 6)  # about 6 px per character at 11 px
        label = s["legend"] if len(s["legend"]) <= room else s["legend"][:room - 1] + "…"
        out.append(f'<text x="{lx + 17}" y="{ly - 3}" fill="{TEXT}" font-size="11">{escape(label)}</text>')
    if not series:
        out.append(f'<text x="{x + w / 2}" y="{y + h / 2}" fill="{DIM}" font-size="13" text-anchor="middle">No data</text>')


def render_stat(out, panel, x, y, w, h):
    series = [s for t in panel["targets"] for s in t["series"]]
    last = None
    for s in series:
        values = finite(s["values"])
        if values:
            last = (last or 0.0) + values[-1][1]
    out.append(f'<text x="{x + w / 2}" y="{y + h / 2 + 18}" fill="#73BF69" font-size="34" font-weight="500" '
               f'text-anchor="middle">{escape(fmt(last, panel["unit"]))}</text>')


def render(results):
    panels = results["panels"]
    width = 24 * COL
    height = max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in panels) * ROW + 56
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="Inter, Helvetica, Arial, sans-serif">',
           f'<rect width="{width}" height="{height}" fill="{BG}"/>',
           f'<text x="12" y="28" fill="{TEXT}" font-size="18" font-weight="500">{escape(results["title"])}</text>',
           f'<text x="{width - 12}" y="28" fill="{DIM}" font-size="12" text-anchor="end">'
           f'{escape(time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(results["start"])))} to '
           f'{escape(time.strftime("%H:%M:%S", time.localtime(results["end"])))}, instance = All, '
           f'step {results["step"]:g} s, $__rate_interval = {escape(results["rate_interval"])}</text>']
    for panel in panels:
        g = panel["gridPos"]
        x, y, w, h = g["x"] * COL + 4, g["y"] * ROW + 44, g["w"] * COL - 8, g["h"] * ROW - 8
        out.append(f'<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="2" fill="{PANEL}" stroke="{GRID}"/>')
        out.append(f'<text x="{x + 10}" y="{y + 19}" fill="{TEXT}" font-size="13" font-weight="500">'
                   f'{escape(panel["title"])}</text>')
        if panel["type"] == "stat":
            render_stat(out, panel, x, y, w, h)
        else:
            render_timeseries(out, panel, x, y, w, h, results["start"], results["end"])
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("capture", help="depthd + Prometheus + load; evaluate every panel")
    c.add_argument("--depthd", required=True)
    c.add_argument("--proto_dir", required=True)
    c.add_argument("--dashboard", default=DASHBOARD)
    c.add_argument("--rules", default=RULES)
    c.add_argument("--clients", default="2", help="clients, or phases: 1,2,4")
    c.add_argument("--duration", type=float, default=30, help="seconds of load (all phases)")
    c.add_argument("--mix", default="ok=6,submit=2,live=1,bad_video=1,bad_spec=1,cancel=1,client_cancel=1,deadline=1")
    c.add_argument("--threads", type=int, default=1)
    c.add_argument("--scrape_interval", type=float, default=1.0)
    c.add_argument("--step", type=float, default=0, help="query_range step (s); 0 = about 200 points")
    c.add_argument("--json", default="")
    c.add_argument("--svg", default="")
    r = sub.add_parser("render", help="JSON from capture -> SVG")
    r.add_argument("json")
    r.add_argument("svg")
    args = parser.parse_args(argv)
    if args.command == "render":
        with open(args.json) as f:
            results = json.load(f)
        with open(args.svg, "w") as f:
            f.write(render(results))
        return 0
    capture(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
