#!/usr/bin/python3
"""Load and soak test of depthd over loopback.

Starts its own depthd (the binary given, on free loopback ports, a fresh --state_dir), then N
client threads, each with its own gRPC channel, run a mix of scenarios for T seconds:

  ok             Estimate of a small video (64-96 px, 10-30 frames)         -> OK, job SUCCEEDED
  submit         SubmitJob, WatchJob to the end, FetchResult                -> OK, job SUCCEEDED
  live           a live Estimate of raw RGB frames (spec.live)              -> OK, job SUCCEEDED
                 (or RESOURCE_EXHAUSTED before any job when no slot is free)
  bad_video      Estimate of bytes that are no video                         -> INVALID_ARGUMENT
  bad_spec       Estimate with a preset that does not exist                  -> INVALID_ARGUMENT
  cancel         Estimate, half the upload, CancelJob from another call       -> CANCELLED
  client_cancel  Estimate, half the upload, the client cancels its own call   -> CANCELLED
  deadline       Estimate, half the upload, then silence past the deadline    -> DEADLINE_EXCEEDED

Every job a client created is watched to its end and deleted (DeleteJob), as a well-behaved
client does. It reports throughput, latency p50/p95/p99 per scenario, every call's status code,
and depthd's RSS, open descriptors and threads over time, and it asserts:

  1. no call ended with a status its scenario does not expect;
  2. depthd's own counters equal what the clients saw: depthd_rpcs_total{method,code} against
     every call the clients made, depthd_jobs_total{outcome} against each job's final state
     (and the refusals that never became a job), depthd_frames_total against the frames of the
     jobs that succeeded, depthd_job_duration_seconds_count against the runs the jobs report
     (JobStatus.attempts); the queue, running and memory gauges back at 0;
  3. no leak: with every client gone, descriptors back to what they were after a warm-up with
     the same mix, threads no more than during it, and RSS no higher than it was during the
     warm-up (its peak, or the idle baseline after it) plus --rss_slack_mib: an allocator keeps
     what the mix needed, a leak grows past it. The RSS trend during the load is reported.

Exit status: 0 passed, 1 an assertion failed, 77 a prerequisite (ffmpeg, protoc, the gRPC
Python plugin, python3-grpcio) is missing.

  bench/load/depthd_load.py --depthd build/server/depthd --proto_dir proto \\
      --clients 2,4,8 --duration 600 --json soak.json
"""
import argparse
import collections
import itertools
import json
import traceback
import os
import queue
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

SKIP = 77
SCENARIOS = ("ok", "submit", "live", "bad_video", "bad_spec", "cancel", "client_cancel", "deadline")
DEFAULT_MIX = "ok=6,submit=2,live=1,bad_video=1,bad_spec=1,cancel=1,client_cancel=1,deadline=1"

# The status codes each scenario's calls may end with. Anything else is a failure.
EXPECTED = {
    "ok": {"Estimate": {"OK"}},
    "submit": {"SubmitJob": {"OK"}, "WatchJob": {"OK"}, "FetchResult": {"OK"}},
    # A live stream needs a slot at once; without one depthd refuses it ("retry later").
    "live": {"Estimate": {"OK", "RESOURCE_EXHAUSTED"}},
    "bad_video": {"Estimate": {"INVALID_ARGUMENT"}},
    "bad_spec": {"Estimate": {"INVALID_ARGUMENT"}},
    "cancel": {"Estimate": {"CANCELLED"}, "CancelJob": {"OK"}},
    "client_cancel": {"Estimate": {"CANCELLED"}},
    "deadline": {"Estimate": {"DEADLINE_EXCEEDED"}},
    # Calls every scenario may make on its jobs afterwards.
    "cleanup": {"WatchJob": {"OK"}, "ListJobs": {"OK"}, "DeleteJob": {"OK"}},
    "setup": {"GetServerInfo": {"OK"}},
}
# Codes with which a scenario's call may be refused before its job exists.
REFUSALS = {"bad_spec": {"INVALID_ARGUMENT"}, "live": {"RESOURCE_EXHAUSTED"}}
# The final job state each scenario expects (None: the call is refused before a job exists).
EXPECTED_STATE = {
    "ok": "JOB_STATE_SUCCEEDED", "submit": "JOB_STATE_SUCCEEDED", "live": "JOB_STATE_SUCCEEDED",
    "bad_video": "JOB_STATE_FAILED",
    "bad_spec": None, "cancel": "JOB_STATE_CANCELLED", "client_cancel": "JOB_STATE_CANCELLED",
    "deadline": "JOB_STATE_CANCELLED",
}

# server/job_state.cc Outcome(): the gRPC code a job (or a refused call) ended with -> outcome.
OUTCOME = {
    "OK": "succeeded", "CANCELLED": "cancelled", "DEADLINE_EXCEEDED": "cancelled",
    "INVALID_ARGUMENT": "invalid", "OUT_OF_RANGE": "invalid", "NOT_FOUND": "invalid",
    "FAILED_PRECONDITION": "invalid", "RESOURCE_EXHAUSTED": "rejected", "UNAVAILABLE": "rejected",
    "UNAUTHENTICATED": "rejected", "PERMISSION_DENIED": "rejected",
}
CODE_NAMES = ["OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
              "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
              "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
              "UNAUTHENTICATED"]
CHUNK = 16 << 10
THREAD_SLACK = 2


class Prerequisite(Exception):
    """Something this machine lacks; the test is skipped, not failed."""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def generate_stubs(proto_dir, out_dir):
    """protoc + grpc_python_plugin into out_dir; returns the modules (pb2, grpc, health)."""
    for tool in ("protoc", "/usr/bin/grpc_python_plugin"):
        if shutil.which(tool) is None:
            raise Prerequisite(f"{tool} is missing (Debian: protobuf-compiler, protobuf-compiler-grpc)")
    # grpc.health.v1's file is generated under another module name: "grpc" is the library's.
    health_dir = os.path.join(out_dir, "health_proto")
    os.makedirs(os.path.join(health_dir, "depthd_health"), exist_ok=True)
    shutil.copy(os.path.join(proto_dir, "grpc/health/v1/health.proto"),
                os.path.join(health_dir, "depthd_health/health.proto"))
    plugin = "--plugin=protoc-gen-grpc=/usr/bin/grpc_python_plugin"
    subprocess.run(["protoc", f"-I{proto_dir}", f"--python_out={out_dir}", f"--grpc_out={out_dir}", plugin,
                    os.path.join(proto_dir, "depthd/v1/depthd.proto")], check=True)
    subprocess.run(["protoc", f"-I{health_dir}", f"--python_out={out_dir}", f"--grpc_out={out_dir}", plugin,
                    os.path.join(health_dir, "depthd_health/health.proto")], check=True)
    sys.path.insert(0, out_dir)
    try:
        import grpc  # noqa: F401
    except ImportError as error:
        raise Prerequisite(f"python3-grpcio is missing ({error})")
    from depthd.v1 import depthd_pb2, depthd_pb2_grpc
    from depthd_health import health_pb2, health_pb2_grpc
    return depthd_pb2, depthd_pb2_grpc, health_pb2, health_pb2_grpc


def make_videos(work):
    """Small MPEG-4 clips of moving test patterns; returns {name: bytes}."""
    if shutil.which("ffmpeg") is None:
        raise Prerequisite("ffmpeg is missing (Debian: ffmpeg)")
    videos = {}
    for name, size, frames, pattern in (("a", "160x120", 30, "testsrc2"), ("b", "128x96", 20, "testsrc"),
                                        ("c", "96x72", 12, "smptebars")):
        path = os.path.join(work, f"{name}.mp4")
        subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                        f"{pattern}=size={size}:rate=24", "-frames:v", str(frames), "-c:v", "mpeg4",
                        "-q:v", "5", path], check=True)
        with open(path, "rb") as f:
            videos[name] = (f.read(), frames)
    return videos


def make_live_frames(width=96, height=72, count=24):
    """Raw RGB frames of a gradient with a moving bar, for live jobs."""
    frames = []
    for f in range(count):
        rows = []
        for y in range(height):
            row = bytearray()
            for x in range(width):
                bar = abs(x - (f * 3) % width) < 8
                row += bytes((40 if bar else x * 255 // width, 220 if bar else y * 255 // height, 128))
            rows.append(bytes(row))
        frames.append(b"".join(rows))
    return width, height, frames


def read_metrics(address):
    """depthd's /metrics as {(name, frozenset(labels)): value}."""
    import urllib.request
    with urllib.request.urlopen(f"http://{address}/metrics", timeout=10) as response:
        text = response.read().decode()
    samples = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        head, value = line.rsplit(" ", 1)
        labels = frozenset()
        if "{" in head:
            name, rest = head.split("{", 1)
            pairs = []
            for part in rest.rstrip("}").split('",'):
                if part:
                    key, val = part.split("=", 1)
                    pairs.append((key, val.strip('"')))
            labels = frozenset(pairs)
        else:
            name = head
        samples[(name, labels)] = float(value)
    return samples


def metric(samples, name, **labels):
    want = set(labels.items())
    return sum(v for (n, l), v in samples.items() if n == name and want <= set(l))


class Depthd:
    """depthd on loopback with its own state folder; samples RSS, descriptors and threads."""

    def __init__(self, binary, work, threads, extra_args):
        self.port, self.metrics_port = free_port(), free_port()
        self.state_dir = os.path.join(work, "state")
        self.log_path = os.path.join(work, "depthd.log")
        self.args = [binary, "--listen", self.address, "--metrics_listen", self.metrics_address,
                     "--state_dir", self.state_dir, "--threads", str(threads),
                     "--upload_idle_timeout", "2s", "--queue_size", "64"] + list(extra_args)
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen(self.args, stderr=self._log, stdout=self._log)
        self.samples = []  # (seconds since start, rss KiB, descriptors, threads)
        self._t0 = time.time()
        self._stop = threading.Event()
        self._sampler = threading.Thread(target=self._sample_loop, daemon=True)
        self._sampler.start()

    @property
    def address(self):
        return f"127.0.0.1:{self.port}"

    @property
    def metrics_address(self):
        return f"127.0.0.1:{self.metrics_port}"

    def sample(self):
        pid = self.process.pid
        rss = threads = 0
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1])
                elif line.startswith("Threads:"):
                    threads = int(line.split()[1])
        fds = len(os.listdir(f"/proc/{pid}/fd"))
        return (round(time.time() - self._t0, 2), rss, fds, threads)

    def _sample_loop(self):
        while not self._stop.wait(1.0):
            try:
                self.samples.append(self.sample())
            except (FileNotFoundError, ProcessLookupError):
                return

    def wait_serving(self, health_pb2, health_pb2_grpc, timeout=90):
        import grpc
        deadline = time.time() + timeout
        with grpc.insecure_channel(self.address) as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            while time.time() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"depthd exited with {self.process.returncode}:\n{self.log_tail()}")
                try:
                    if stub.Check(health_pb2.HealthCheckRequest(), timeout=1).status == 1:
                        return
                except grpc.RpcError:
                    pass
                time.sleep(0.2)
        raise RuntimeError("depthd did not report SERVING")

    def log_tail(self, lines=30):
        with open(self.log_path, "rb") as f:
            return b"\n".join(f.read().splitlines()[-lines:]).decode(errors="replace")

    def stop(self):
        """SIGTERM, as an orchestrator stops it; returns the exit status."""
        self._stop.set()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
        return self.process.returncode


class Tally:
    """What the clients saw, shared by all client threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.calls = collections.Counter()       # (method, code)
        self.unexpected = []                       # descriptions
        self.latency = collections.defaultdict(list)   # scenario -> [(end time, seconds)]
        self.scenarios = collections.Counter()
        self.jobs = {}                             # job id -> (scenario, final JobStatus)
        self.refused = collections.Counter()       # outcome of calls refused before a job
        self.frames_received = 0
        self.received = {}                         # job id -> frames its client received
        self.notes = collections.Counter()
        # Calls that ended as expected before their client learnt a job id (a deadline before
        # Accepted): tag -> (scenario, code); a job may or may not exist (sweep_untracked).
        self.untracked = {}
        self.sequence = itertools.count(1)

    def call(self, scenario, method, code, detail=""):
        with self.lock:
            self.calls[(method, code)] += 1
            allowed = EXPECTED.get(scenario, {}).get(method, set())
            if code not in allowed:
                self.unexpected.append(f"{scenario}: {method} ended {code} (expected "
                                       f"{'/'.join(sorted(allowed)) or 'no such call'}) {detail}")


class Client:
    def __init__(self, index, args, env, tally, stop_at, rng):
        import grpc
        self.grpc = grpc
        self.pb2, self.pb2_grpc = env["pb2"], env["pb2_grpc"]
        self.videos = env["videos"]
        self.live_frames = env["live_frames"]
        self.index, self.args, self.tally, self.stop_at, self.rng = index, args, tally, stop_at, rng
        options = [("grpc.max_receive_message_length", 64 << 20)]
        self.channel = grpc.insecure_channel(env["address"], options=options)
        self.stub = self.pb2_grpc.DepthServiceStub(self.channel)
        self.pending = []  # (ready time, scenario, job id): jobs whose end comes later
        self.mix = env["mix"]
        self.tag = ""      # JobSpec.client_name of the scenario running: finds its job later

    def code(self, error):
        return error.code().name if error is not None else "OK"

    def spec(self, frames):
        return self.pb2.JobSpec(processing_res=self.rng.choice(self.args.res),
                                frame_count=frames,
                                depth_encoding=self.rng.choice([self.pb2.DEPTH_ENCODING_FLOAT16,
                                                                self.pb2.DEPTH_ENCODING_FLOAT32]),
                                client_name=self.tag)

    def video(self):
        name = self.rng.choice(sorted(self.videos))
        data, frames = self.videos[name]
        return data, self.rng.randint(min(10, frames), frames)

    def chunks(self, data):
        return [self.pb2.EstimateRequest(chunk=self.pb2.VideoChunk(data=data[i:i + CHUNK]))
                for i in range(0, len(data), CHUNK)]

    def run(self):
        try:
            names = [n for n, w in self.mix for _ in range(w)]
            while time.time() < self.stop_at:
                scenario = self.rng.choice(names)
                with self.tally.lock:
                    self.tag = f"depthd_load/{scenario}/{next(self.tally.sequence)}"
                started = time.time()
                succeeded = getattr(self, "scenario_" + scenario)(scenario)
                with self.tally.lock:
                    self.tally.scenarios[scenario] += 1
                    if succeeded:  # latency of the jobs that succeeded (ok, submit, live)
                        self.tally.latency[scenario].append((time.time(), time.time() - started))
                self.reap(block=False)
            self.reap(block=True)
        except Exception:  # a bug here must fail the run, not end a client quietly
            with self.tally.lock:
                self.tally.unexpected.append(f"client {self.index} crashed: {traceback.format_exc()}")
        finally:
            self.channel.close()

    # -- scenarios -----------------------------------------------------------------------------

    def estimate(self, scenario, requests, timeout=120):
        """A whole Estimate; returns (code, responses)."""
        responses, error = [], None
        try:
            for response in self.stub.Estimate(iter(requests), timeout=timeout):
                responses.append(response)
        except self.grpc.RpcError as e:
            error = e
        code = self.code(error)
        self.tally.call(scenario, "Estimate", code, error.details() if error is not None else "")
        return code, responses

    def scenario_ok(self, scenario):
        data, frames = self.video()
        code, responses = self.estimate(
            scenario, [self.pb2.EstimateRequest(spec=self.spec(frames))] + self.chunks(data))
        job_id = next((r.accepted.job_id for r in responses if r.HasField("accepted")), "")
        got = [r.frame for r in responses if r.HasField("frame")]
        summary = next((r.summary for r in responses if r.HasField("summary")), None)
        if code == "OK":
            with self.tally.lock:
                self.tally.frames_received += len(got)
                self.tally.received[job_id] = len(got)
            if len(got) != frames or summary is None or summary.frames != frames or \
                    [f.index for f in got] != list(range(frames)):
                with self.tally.lock:
                    self.tally.unexpected.append(
                        f"ok: {len(got)} frames for {frames} requested (summary "
                        f"{summary.frames if summary else None})")
        self.finish(scenario, job_id, code)
        return code == "OK"

    def scenario_submit(self, scenario):
        data, frames = self.video()
        job_id, error = "", None
        try:
            status = self.stub.SubmitJob(
                iter([self.pb2.EstimateRequest(spec=self.spec(frames))] + self.chunks(data)), timeout=60)
            job_id = status.job_id
        except self.grpc.RpcError as e:
            error = e
        self.tally.call(scenario, "SubmitJob", self.code(error))
        if not job_id:
            self.finish(scenario, "", self.code(error))
            return
        self.watch(scenario, job_id)
        got, error = [], None
        try:
            for response in self.stub.FetchResult(self.pb2.FetchResultRequest(job_id=job_id), timeout=60):
                if response.HasField("frame"):
                    got.append(response.frame.index)
        except self.grpc.RpcError as e:
            error = e
        self.tally.call(scenario, "FetchResult", self.code(error))
        with self.tally.lock:
            self.tally.frames_received += len(got)
            self.tally.received[job_id] = len(got)
            if error is None and got != list(range(frames)):
                self.tally.unexpected.append(f"submit: fetched frames {got[:5]}... for {frames}")
        self.finish(scenario, job_id, "OK")
        return error is None

    def scenario_live(self, scenario):
        width, height, images = self.live_frames
        count = self.rng.randint(16, len(images))
        spec = self.pb2.JobSpec(processing_res=64, live=True, client_name=self.tag)
        requests = [self.pb2.EstimateRequest(spec=spec)] + [
            self.pb2.EstimateRequest(frame=self.pb2.Frame(
                raw_rgb=self.pb2.RawImage(width=width, height=height, data=images[i]), fps=24.0))
            for i in range(count)]
        code, responses = self.estimate(scenario, requests)
        job_id = next((r.accepted.job_id for r in responses if r.HasField("accepted")), "")
        got = [r.frame.index for r in responses if r.HasField("frame")]
        if code == "OK":
            with self.tally.lock:
                self.tally.frames_received += len(got)
                self.tally.received[job_id] = len(got)
                if got != list(range(count)):
                    self.tally.unexpected.append(f"live: frames {got[:5]}... for {count} sent")
        self.finish(scenario, job_id, code)
        return code == "OK"

    def scenario_bad_video(self, scenario):
        garbage = bytes(self.rng.getrandbits(8) for _ in range(6000))
        code, responses = self.estimate(
            scenario, [self.pb2.EstimateRequest(spec=self.spec(10))] + self.chunks(garbage))
        self.finish(scenario, next((r.accepted.job_id for r in responses if r.HasField("accepted")), ""), code)

    def scenario_bad_spec(self, scenario):
        spec = self.spec(10)
        spec.preset = "no_such_preset"
        code, responses = self.estimate(scenario, [self.pb2.EstimateRequest(spec=spec)] +
                                        self.chunks(self.videos["c"][0]))
        self.finish(scenario, next((r.accepted.job_id for r in responses if r.HasField("accepted")), ""), code)

    def partial(self, scenario, timeout):
        """Estimate with the spec and half the video's bytes, then nothing: (call, queue, job id)."""
        data, frames = self.video()
        requests = queue.Queue()

        def iterate():
            while True:
                item = requests.get()
                if item is None:
                    return
                yield item
        call = self.stub.Estimate(iterate(), timeout=timeout)
        requests.put(self.pb2.EstimateRequest(spec=self.spec(frames)))
        # Half the bytes, so the job cannot finish without the rest: a small video fits in one
        # chunk, and depthd ends a job once its frame_count frames are decoded, half-close or not.
        for chunk in self.chunks(data[:max(1, len(data) // 2)]):
            requests.put(chunk)
        job_id = ""
        try:
            for response in call:
                if response.HasField("accepted"):
                    job_id = response.accepted.job_id
                    break
        except self.grpc.RpcError:
            pass
        return call, requests, job_id

    def drain(self, scenario, call, requests):
        error = None
        try:
            for _ in call:
                pass
        except self.grpc.RpcError as e:
            error = e
        requests.put(None)  # ends the request iterator's thread
        code = self.code(error)
        self.tally.call(scenario, "Estimate", code, error.details() if error is not None else "")
        return code

    def scenario_cancel(self, scenario):
        call, requests, job_id = self.partial(scenario, timeout=60)
        if job_id:
            error = None
            try:
                self.stub.CancelJob(self.pb2.CancelJobRequest(job_id=job_id), timeout=30)
            except self.grpc.RpcError as e:
                error = e
            self.tally.call(scenario, "CancelJob", self.code(error))
        code = self.drain(scenario, call, requests)
        self.finish(scenario, job_id, code)

    def scenario_client_cancel(self, scenario):
        call, requests, job_id = self.partial(scenario, timeout=60)
        call.cancel()
        code = self.drain(scenario, call, requests)
        # The upload stays resumable for --upload_idle_timeout (2 s here), then the job ends.
        self.finish(scenario, job_id, code, later=3.0)

    def scenario_deadline(self, scenario):
        call, requests, job_id = self.partial(scenario, timeout=self.args.deadline)
        code = self.drain(scenario, call, requests)
        self.finish(scenario, job_id, code, later=3.0)

    # -- the end of every job ------------------------------------------------------------------

    def finish(self, scenario, job_id, code, later=0.0):
        if job_id:
            self.pending.append((time.time() + later, scenario, job_id))
            return
        with self.tally.lock:
            if code in REFUSALS.get(scenario, ()):
                self.tally.refused[OUTCOME.get(code, "failed")] += 1
            elif code in EXPECTED[scenario].get("Estimate", ()):
                self.tally.untracked[self.tag] = (scenario, code)
            else:
                self.tally.unexpected.append(f"{scenario}: no job was created ({code})")
                self.tally.refused[OUTCOME.get(code, "failed")] += 1

    def sweep_untracked(self):
        """Finds the jobs of untracked calls by their tag (ListJobs), settles and deletes them;
        a tag without a job was a call refused before it became one."""
        if not self.tally.untracked:
            return
        found, token = {}, ""
        while True:
            error, page = None, None
            try:
                page = self.stub.ListJobs(self.pb2.ListJobsRequest(page_size=1000, page_token=token), timeout=30)
            except self.grpc.RpcError as e:
                error = e
            self.tally.call("cleanup", "ListJobs", self.code(error))
            if page is None:
                break
            for job in page.jobs:
                if job.spec.client_name in self.tally.untracked:
                    found[job.spec.client_name] = job.job_id
            token = page.next_page_token
            if not token:
                break
        for tag, (scenario, code) in sorted(self.tally.untracked.items()):
            if tag in found:
                self.pending.append((0.0, scenario, found[tag]))
            else:
                with self.tally.lock:
                    self.tally.refused[OUTCOME.get(code, "failed")] += 1
        with self.tally.lock:
            self.tally.notes["calls ended as expected before their job id was known (found by ListJobs: "
                             f"{len(found)})"] += len(self.tally.untracked)
            self.tally.untracked.clear()
        self.reap(block=True)

    def reap(self, block):
        keep = []
        for ready, scenario, job_id in self.pending:
            if not block and ready > time.time():
                keep.append((ready, scenario, job_id))
                continue
            if ready > time.time():
                time.sleep(ready - time.time())
            status = self.watch("cleanup", job_id)
            error = None
            try:
                self.stub.DeleteJob(self.pb2.DeleteJobRequest(job_id=job_id), timeout=30)
            except self.grpc.RpcError as e:
                error = e
            self.tally.call("cleanup", "DeleteJob", self.code(error))
            state = self.pb2.JobState.Name(status.state) if status is not None else "UNKNOWN"
            with self.tally.lock:
                self.tally.jobs[job_id] = (scenario, status)
                if status is not None and job_id in self.tally.received and \
                        status.frames != self.tally.received[job_id]:
                    self.tally.notes["JobStatus.frames of a SUCCEEDED job differs from the frames "
                                     "its client received"] += 1
                if state != EXPECTED_STATE[scenario]:
                    self.tally.unexpected.append(
                        f"{scenario}: job {job_id} ended {state} "
                        f"({status.error if status is not None else ''}), expected {EXPECTED_STATE[scenario]}")
        self.pending = keep

    def watch(self, scenario, job_id):
        """WatchJob to the job's end; returns its last JobStatus."""
        last, error = None, None
        try:
            for status in self.stub.WatchJob(self.pb2.WatchJobRequest(job_id=job_id), timeout=120):
                last = status
        except self.grpc.RpcError as e:
            error = e
        self.tally.call(scenario, "WatchJob", self.code(error))
        return last


def percentile(values, p):
    """Nearest rank."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, int(-(-p * len(ordered) // 100)))
    return ordered[min(rank, len(ordered)) - 1]


def run_phase(args, env, tally, clients, seconds, seed):
    stop_at = time.time() + seconds
    workers = [Client(i, args, env, tally, stop_at, random.Random(seed * 1000 + i)) for i in range(clients)]
    threads = [threading.Thread(target=w.run, name=f"client-{i}") for i, w in enumerate(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    sweeper = Client(-1, args, env, tally, 0, random.Random(seed))
    try:
        sweeper.sweep_untracked()
    finally:
        sweeper.channel.close()


def rss_trend(samples, t0, t1):
    """Least-squares slope of RSS (MiB per minute) over the samples in [t0, t1], and their count."""
    points = [(t, rss / 1024) for t, rss, _, _ in samples if t0 <= t <= t1]
    if len(points) < 3:
        return 0.0, len(points)
    mt = sum(t for t, _ in points) / len(points)
    mr = sum(r for _, r in points) / len(points)
    var = sum((t - mt) ** 2 for t, _ in points)
    return (sum((t - mt) * (r - mr) for t, r in points) / var * 60 if var else 0.0), len(points)


def parse_mix(text):
    mix = []
    for part in text.split(","):
        name, weight = part.split("=")
        if name not in SCENARIOS:
            raise SystemExit(f"--mix: unknown scenario {name!r}; known: {', '.join(SCENARIOS)}")
        if int(weight) > 0:
            mix.append((name, int(weight)))
    return mix


def reconcile(tally, before, after, merge):
    """depthd's counters against the clients' view: a list of (what, server, clients, compared).

    `merge` {method: codes}: those codes of that method are compared as their sum (each is still
    listed, not compared)."""
    rows = []
    methods = {m for (m, _) in tally.calls}
    for (name, labels) in after:
        if name == "depthd_rpcs_total":
            methods.add(dict(labels)["method"])
    for method in sorted(methods):
        for code in CODE_NAMES:
            server = metric(after, "depthd_rpcs_total", method=method, code=code) - \
                metric(before, "depthd_rpcs_total", method=method, code=code)
            clients = tally.calls.get((method, code), 0)
            if server or clients:
                rows.append((f"depthd_rpcs_total{{method={method},code={code}}}", server, clients,
                             code not in merge.get(method, ())))
        if method in merge:
            codes = merge[method]
            server = sum(metric(after, "depthd_rpcs_total", method=method, code=c) -
                         metric(before, "depthd_rpcs_total", method=method, code=c) for c in codes)
            clients = sum(tally.calls.get((method, c), 0) for c in codes)
            rows.append((f"depthd_rpcs_total{{method={method},code={'|'.join(codes)}}}", server, clients, True))
    outcomes = collections.Counter(tally.refused)
    frames = attempts = 0
    for scenario, status in tally.jobs.values():
        if status is None:
            outcomes["unknown"] += 1
            continue
        code = CODE_NAMES[status.error_code] if 0 <= status.error_code < len(CODE_NAMES) else "UNKNOWN"
        outcomes[OUTCOME.get(code, "failed")] += 1
        attempts += status.attempts
    for outcome in ("succeeded", "invalid", "failed", "cancelled", "rejected"):
        rows.append((f"depthd_jobs_total{{outcome={outcome}}}",
                     metric(after, "depthd_jobs_total", outcome=outcome) -
                     metric(before, "depthd_jobs_total", outcome=outcome), outcomes.get(outcome, 0), True))
    frames = tally.frames_received
    rows.append(("depthd_frames_total", metric(after, "depthd_frames_total") -
                 metric(before, "depthd_frames_total"), frames, True))
    rows.append(("depthd_job_duration_seconds_count", metric(after, "depthd_job_duration_seconds_count") -
                 metric(before, "depthd_job_duration_seconds_count"), attempts, True))
    for gauge in ("depthd_queue_depth", "depthd_jobs_running", "depthd_memory_reserved_bytes"):
        rows.append((f"{gauge} (at the end)", metric(after, gauge), 0, True))
    return rows, frames


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--depthd", required=True, help="the depthd binary")
    parser.add_argument("--proto_dir", required=True, help="the repository's proto/ folder")
    parser.add_argument("--clients", default="4", help="concurrent clients, or phases: 2,4,8")
    parser.add_argument("--duration", type=float, default=60, help="seconds of measured load (all phases)")
    parser.add_argument("--warmup", type=float, default=15, help="seconds of the same mix before the baseline")
    parser.add_argument("--mix", default=DEFAULT_MIX, help="scenario=weight,...")
    parser.add_argument("--res", default="64,96", help="processing resolutions to draw from")
    parser.add_argument("--deadline", type=float, default=1.0, help="the deadline scenario's deadline (s)")
    parser.add_argument("--threads", type=int, default=1, help="depthd --threads")
    parser.add_argument("--rss_slack_mib", type=float, default=16,
                        help="RSS after the load may exceed the warm-up's by this much")
    parser.add_argument("--lenient_deadline_code", action="store_true",
                        help="compare Estimate's CANCELLED and DEADLINE_EXCEEDED counts as their sum: "
                             "depthd counts a client's deadline as CANCELLED when the client's cancel "
                             "arrives before depthd's own deadline passes")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", default="", help="write the whole report here")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs, state)")
    parser.add_argument("depthd_args", nargs="*", help="more depthd flags (after --)")
    args = parser.parse_args(argv)
    args.res = [int(r) for r in args.res.split(",")]
    phases = [int(c) for c in args.clients.split(",")]
    mix = parse_mix(args.mix)

    work = tempfile.mkdtemp(prefix="depthd_load_")
    server = None
    try:
        try:
            pb2, pb2_grpc, health_pb2, health_pb2_grpc = generate_stubs(args.proto_dir, work)
            videos = make_videos(work)
            live_frames = make_live_frames()
        except Prerequisite as missing:
            print(f"depthd_load: SKIPPED: {missing}")
            return SKIP
        import grpc

        server = Depthd(args.depthd, work, args.threads, args.depthd_args)
        server.wait_serving(health_pb2, health_pb2_grpc)
        env = {"pb2": pb2, "pb2_grpc": pb2_grpc, "videos": videos, "live_frames": live_frames,
               "address": server.address, "mix": mix}
        tally = Tally()
        start_metrics = read_metrics(server.metrics_address)
        with grpc.insecure_channel(server.address) as channel:
            info = pb2_grpc.DepthServiceStub(channel).GetServerInfo(pb2.GetServerInfoRequest(), timeout=10)
        tally.call("setup", "GetServerInfo", "OK")
        print(f"depthd_load: depthd {info.version}, model {info.model.name} on {info.device}, "
              f"max_active_jobs {info.limits.max_active_jobs}, {args.threads} threads; "
              f"load {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f} on "
              f"{os.cpu_count()} cores", flush=True)

        print(f"depthd_load: warm-up {args.warmup:.0f} s at {max(phases)} clients", flush=True)
        run_phase(args, env, tally, max(phases), args.warmup, args.seed)
        time.sleep(3)  # every client gone; depthd settles
        baseline = server.sample()
        warm_threads = max([s[3] for s in server.samples] + [baseline[3]])
        warm_rss = max([s[1] for s in server.samples] + [baseline[1]])
        warm = {k: len(v) for k, v in tally.latency.items()}
        warm_jobs = len(tally.jobs)
        print(f"depthd_load: baseline RSS {baseline[1] / 1024:.1f} MiB, {baseline[2]} descriptors, "
              f"{baseline[3]} threads", flush=True)

        phase_reports = []
        per_phase = args.duration / len(phases)
        load_start = time.time()
        for k, clients in enumerate(phases):
            t0 = time.time()
            before = {s: len(v) for s, v in tally.latency.items()}
            frames_before = tally.frames_received
            run_phase(args, env, tally, clients, per_phase, args.seed + 1 + k)
            elapsed = time.time() - t0
            lat = {s: [d for _, d in v[before.get(s, 0):]] for s, v in tally.latency.items()}
            done = sum(len(v) for v in lat.values())
            frames_now = tally.frames_received
            report = {"clients": clients, "seconds": round(elapsed, 1), "jobs_succeeded": done,
                      "jobs_per_s": round(done / elapsed, 3),
                      "frames_per_s": round((frames_now - frames_before) / elapsed, 2),
                      "latency_s": {s: {"n": len(v), "p50": round(percentile(v, 50), 3),
                                        "p95": round(percentile(v, 95), 3),
                                        "p99": round(percentile(v, 99), 3)} for s, v in sorted(lat.items())}}
            phase_reports.append(report)
            lat_text = ", ".join(f"{s} p50/p95/p99 {r['p50']:.2f}/{r['p95']:.2f}/{r['p99']:.2f} s (n={r['n']})"
                                 for s, r in report["latency_s"].items())
            print(f"depthd_load: {clients} clients, {elapsed:.0f} s: {done} jobs succeeded "
                  f"({report['jobs_per_s']:.2f}/s, {report['frames_per_s']:.1f} frames/s); {lat_text}",
                  flush=True)
        load_seconds = time.time() - load_start

        time.sleep(3)
        end = server.sample()
        end_metrics = read_metrics(server.metrics_address)
        merge = {"Estimate": ("CANCELLED", "DEADLINE_EXCEEDED")} if args.lenient_deadline_code else {}
        rows, frames = reconcile(tally, start_metrics, end_metrics, merge)

        # -- the report ---------------------------------------------------------------------------
        lines = [f"scenarios run: {dict(sorted(tally.scenarios.items()))}",
                 "calls by method and status code (clients):"]
        for (method, code), n in sorted(tally.calls.items()):
            lines.append(f"  {method:14s} {code:18s} {n}")
        lines.append("depthd's counters against the clients' view (server / clients):")
        mismatches = []
        for what, srv, cli, compared in rows:
            mark = "" if srv == cli else "   <-- differs" if compared else "   (not compared: --lenient_deadline_code)"
            if srv != cli and compared:
                mismatches.append(what)
            lines.append(f"  {what:60s} {srv:g} / {cli:g}{mark}")
        series = server.samples
        step = max(1, len(series) // 12)
        lines.append("depthd over time (s, RSS MiB, descriptors, threads):")
        for t, rss, fds, thr in series[::step] + ([series[-1]] if series else []):
            lines.append(f"  {t:8.1f} {rss / 1024:9.1f} {fds:6d} {thr:5d}")
        peak = max(series, key=lambda s: s[1]) if series else end
        trend = rss_trend(series, baseline[0], baseline[0] + load_seconds)
        lines.append(f"RSS during the load: {trend[0]:+.2f} MiB/min (least squares over {trend[1]} samples); "
                     f"warm-up peak {warm_rss / 1024:.1f} MiB")
        lines.append(f"RSS baseline {baseline[1] / 1024:.1f} MiB, peak {peak[1] / 1024:.1f} MiB, after "
                     f"{end[1] / 1024:.1f} MiB; descriptors {baseline[2]} -> max "
                     f"{max(s[2] for s in series) if series else end[2]} -> {end[2]}; threads "
                     f"{baseline[3]} -> {end[3]}")
        for note, n in tally.notes.items():
            lines.append(f"note: {note}: {n} times")
        print("\n".join(lines), flush=True)

        failures = []
        if tally.unexpected:
            failures.append(f"{len(tally.unexpected)} unexpected results, e.g. " + "; ".join(tally.unexpected[:5]))
        if mismatches:
            failures.append("depthd's metrics differ from what the clients saw: " + ", ".join(mismatches))
        if end[2] > baseline[2]:
            failures.append(f"descriptors {baseline[2]} after the warm-up, {end[2]} after the load")
        # gRPC's callback executor may keep a thread or two more after a heavier load than the
        # warm-up's; a leak grows with the jobs (thousands here), far past this slack.
        if end[3] > warm_threads + THREAD_SLACK:
            failures.append(f"threads: at most {warm_threads} during the warm-up, {end[3]} after the load "
                            f"(slack {THREAD_SLACK})")
        if end[1] > warm_rss + args.rss_slack_mib * 1024:
            failures.append(f"RSS at most {warm_rss / 1024:.1f} MiB during the warm-up, {end[1] / 1024:.1f} MiB "
                            f"after the load (slack {args.rss_slack_mib} MiB)")
        exit_status = server.stop()
        if exit_status != 0:
            failures.append(f"depthd exited with {exit_status} on SIGTERM")

        if args.json:
            with open(args.json, "w") as f:
                json.dump({"depthd": info.version, "model": info.model.name, "device": info.device,
                           "threads": args.threads, "mix": dict(mix), "warmup_s": args.warmup,
                           "warmup_jobs": warm_jobs, "warmup_latency_n": warm,
                           "load_seconds": round(load_seconds, 1), "phases": phase_reports,
                           "calls": {f"{m} {c}": n for (m, c), n in sorted(tally.calls.items())},
                           "scenarios": dict(tally.scenarios),
                           "reconciliation": [{"what": w, "server": s, "clients": c, "compared": k}
                                              for w, s, c, k in rows],
                           "notes": dict(tally.notes),
                           "frames_succeeded": frames, "baseline": baseline, "end": end,
                           "samples": series, "rss_trend_mib_per_min": round(trend[0], 3),
                           "warmup_peak_rss_kib": warm_rss, "unexpected": tally.unexpected, "failures": failures,
                           "loadavg_end": os.getloadavg()}, f, indent=1)
        if failures:
            print("depthd_load: FAILED:\n  " + "\n  ".join(failures))
            print("depthd's log ends:\n" + server.log_tail())
            return 1
        print(f"depthd_load: PASSED ({sum(tally.scenarios.values())} scenarios, {len(tally.jobs)} jobs, "
              f"{sum(tally.calls.values())} calls)")
        return 0
    finally:
        if server is not None and server.process.poll() is None:
            server.stop()
        if args.keep:
            print(f"depthd_load: work folder kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
