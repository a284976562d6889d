#!/usr/bin/python3
"""End-to-end streaming figures of depthd on loopback (the real binary, a gRPC client generated
from the .proto, one job at a time):

  first   time to the first and the last DepthFrame of one video, per (scope, normalization)
          configuration, measured from the first request message; --repeat runs each in turn
  memory  depthd's peak RSS (VmHWM) for one job of N frames, a fresh depthd per N
  durable upload throughput with --sync_uploads true and false, side by side

usage: stream_e2e.py first  --depthd B --video V [--res 768] [--configs global/global,windowed/aligned]
       stream_e2e.py memory --depthd B --video V --frames 300,3000 [--res 384]
       stream_e2e.py durable --depthd B --video V [--repeat 3]
"""
import argparse
import json
import os
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "bench/load"))
import depthd_load  # noqa: E402

CHUNK = 1 << 20


def requests(pb, spec, data):
    yield pb.EstimateRequest(spec=spec)
    for i in range(0, len(data), CHUNK):
        yield pb.EstimateRequest(chunk=pb.VideoChunk(data=data[i:i + CHUNK]))


def run_job(stub, pb, spec, data):
    """Times (s) from the first message: first frame, last frame, Summary; and the frame count."""
    t0 = time.monotonic()
    first = last = summary_at = None
    frames = 0
    upload_done = None
    for response in stub.Estimate(requests(pb, spec, data), timeout=3600):
        now = time.monotonic() - t0
        kind = response.WhichOneof("payload")
        if kind == "frame":
            frames += 1
            first = now if first is None else first
            last = now
        elif kind == "summary":
            summary_at = now
        elif kind == "upload" and response.upload.complete and upload_done is None:
            upload_done = now
    return {"first_frame_s": first, "last_frame_s": last, "summary_s": summary_at,
            "upload_complete_s": upload_done, "frames": frames}


def spec_for(pb, res, scope, normalization, frame_count=0):
    spec = pb.JobSpec(processing_res=res, coalign_scope=scope,
                      normalization=getattr(pb, "NORMALIZATION_" + normalization.upper()))
    if frame_count:
        spec.frame_count = frame_count
    return spec


def start(args, work, extra=()):
    server = depthd_load.Depthd(args.depthd, work, args.threads, list(extra))
    server.wait_serving(args.health_pb2, args.health_pb2_grpc)
    return server


def command_first(args, pb, pb_grpc):
    import grpc
    data = open(args.video, "rb").read()
    configs = [c.split("/") for c in args.configs.split(",")]
    rows = []
    with tempfile.TemporaryDirectory() as work:
        server = start(args, work)
        with grpc.insecure_channel(server.address) as channel:
            stub = pb_grpc.DepthServiceStub(channel)
            for round_ in range(args.repeat):
                for scope, normalization in configs:
                    r = run_job(stub, pb, spec_for(pb, args.res, scope, normalization), data)
                    r.update(scope=scope, normalization=normalization, round=round_)
                    rows.append(r)
                    print(json.dumps(r), flush=True)
        server.stop()
    return rows


def command_memory(args, pb, pb_grpc):
    import grpc
    data = open(args.video, "rb").read()
    rows = []
    for n in [int(f) for f in args.frames.split(",")]:
        with tempfile.TemporaryDirectory() as work:
            server = start(args, work)
            with grpc.insecure_channel(server.address) as channel:
                stub = pb_grpc.DepthServiceStub(channel)
                r = run_job(stub, pb, spec_for(pb, args.res, "windowed", "aligned", n), data)
            status = open(f"/proc/{server.process.pid}/status").read()
            hwm = int(next(l for l in status.splitlines() if l.startswith("VmHWM:")).split()[1]) * 1024
            idle = min(s[1] for s in server.samples) * 1024 if server.samples else 0
            server.stop()
            r.update(requested_frames=n, peak_rss_bytes=hwm, lowest_sampled_rss_bytes=idle)
            rows.append(r)
            print(json.dumps(r), flush=True)
    return rows


def command_durable(args, pb, pb_grpc):
    import grpc
    data = open(args.video, "rb").read()
    rows = []
    for round_ in range(args.repeat):
        for sync in ("true", "false"):
            with tempfile.TemporaryDirectory() as work:
                server = start(args, work, ["--sync_uploads", sync])
                with grpc.insecure_channel(server.address) as channel:
                    stub = pb_grpc.DepthServiceStub(channel)
                    # Only the upload is timed: the job is cancelled by the deadline-free client
                    # as soon as the upload is acknowledged complete.
                    t0 = time.monotonic()
                    call = stub.Estimate(requests(pb, spec_for(pb, 256, "windowed", "aligned"), data))
                    done = None
                    for response in call:
                        if response.WhichOneof("payload") == "upload" and response.upload.complete:
                            done = time.monotonic() - t0
                            break
                    call.cancel()
                server.stop()
            r = {"sync_uploads": sync, "round": round_, "bytes": len(data), "upload_s": done,
                 "mb_per_s": len(data) / done / 1e6 if done else None}
            rows.append(r)
            print(json.dumps(r), flush=True)
    for sync in ("true", "false"):
        times = [r["upload_s"] for r in rows if r["sync_uploads"] == sync and r["upload_s"]]
        if times:
            print(f"sync_uploads={sync}: median {statistics.median(times):.3f} s "
                  f"({len(data) / statistics.median(times) / 1e6:.1f} MB/s) over {len(times)} runs")
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["first", "memory", "durable"])
    parser.add_argument("--depthd", required=True)
    parser.add_argument("--video", required=True)
    parser.add_argument("--res", type=int, default=768)
    parser.add_argument("--configs", default="global/global,windowed/aligned,windowed/running")
    parser.add_argument("--frames", default="300,3000")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--json", default="")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="stream_e2e_stubs_")
    pb, pb_grpc, args.health_pb2, args.health_pb2_grpc = depthd_load.generate_stubs(
        os.path.join(ROOT, "proto"), work)
    rows = {"first": command_first, "memory": command_memory, "durable": command_durable}[args.command](
        args, pb, pb_grpc)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=2)


if __name__ == "__main__":
    main()
