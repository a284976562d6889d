#!/usr/bin/python3
"""depthd's RSS, sampled every second through one long windowed/ALIGNED job at 256 px, to see
how memory moves during a job (stream_e2e.py memory reports only the peak).

usage: rss_probe.py DEPTHD VIDEO ENCODING FRAMES      e.g. build/server/depthd v.mp4 FLOAT32 2500
(environment variables such as MALLOC_ARENA_MAX reach depthd)
"""
import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "bench/load"))
import depthd_load  # noqa: E402
import grpc  # noqa: E402
import stream_e2e as se  # noqa: E402

if len(sys.argv) != 5:
    raise SystemExit(__doc__)
pb, pb_grpc, h1, h2 = depthd_load.generate_stubs(os.path.join(ROOT, "proto"), tempfile.mkdtemp())


class Args:
    depthd, threads, health_pb2, health_pb2_grpc = sys.argv[1], 0, h1, h2


args = Args()
data = open(sys.argv[2], "rb").read()
enc, n = sys.argv[3], int(sys.argv[4])
with tempfile.TemporaryDirectory() as w:
    server = se.start(args, w)
    spec = se.spec_for(pb, 256, "windowed", "aligned", n)
    spec.depth_encoding = getattr(pb, "DEPTH_ENCODING_" + enc)
    with grpc.insecure_channel(server.address) as ch:
        stub = pb_grpc.DepthServiceStub(ch)
        t0 = time.monotonic(); frames = 0
        for r in stub.Estimate(se.requests(pb, spec, data), timeout=3600):
            if r.WhichOneof("payload") == "frame":
                frames += 1
    st = open(f"/proc/{server.process.pid}/status").read()
    hwm = [l for l in st.splitlines() if l.startswith("VmHWM")][0]
    s = server.samples; server.stop()
    print(enc, n, frames, round(time.monotonic() - t0, 1), hwm)
    print("seconds:MiB", " ".join(f"{t:.0f}:{rss//1024}" for t, rss, _, _ in s[::max(1, len(s)//30)]))
