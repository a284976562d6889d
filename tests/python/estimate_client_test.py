#!/usr/bin/python3
"""A Python client generated from proto/depthd/v1/depthd.proto runs one job against the real
depthd, so the API is known to work beyond C++.

usage: estimate_client_test.py DEPTHD_BINARY PROTO_DIR VIDEO
Prints '1 passed, 0 failed' (or '0 passed, 1 failed') as its last line.
"""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    depthd, proto_dir, video = sys.argv[1:4]
    work = tempfile.mkdtemp(prefix="depthd_py_")
    server = None
    try:
        subprocess.run(
            ["protoc", f"-I{proto_dir}", f"--python_out={work}", f"--grpc_out={work}",
             "--plugin=protoc-gen-grpc=/usr/bin/grpc_python_plugin",
             os.path.join(proto_dir, "depthd/v1/depthd.proto")],
            check=True)
        sys.path.insert(0, work)
        import grpc
        from depthd.v1 import depthd_pb2, depthd_pb2_grpc

        port, metrics_port = free_port(), free_port()
        server = subprocess.Popen(
            [depthd, "--listen", f"127.0.0.1:{port}", "--metrics_listen", f"127.0.0.1:{metrics_port}",
             "--threads", "1", "--spool_dir", os.path.join(work, "spool")],
            stderr=subprocess.PIPE)
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        stub = depthd_pb2_grpc.DepthServiceStub(channel)
        deadline = time.time() + 60
        while True:
            try:
                info = stub.GetServerInfo(depthd_pb2.GetServerInfoRequest(), timeout=1)
                break
            except grpc.RpcError:
                pass
            if time.time() > deadline or server.poll() is not None:
                raise RuntimeError("depthd did not become healthy")
            time.sleep(0.2)

        assert info.model.name, info

        def requests():
            spec = depthd_pb2.JobSpec(processing_res=96, frame_count=8,
                                      depth_encoding=depthd_pb2.DEPTH_ENCODING_FLOAT32)
            yield depthd_pb2.EstimateRequest(spec=spec)
            with open(video, "rb") as f:
                while True:
                    data = f.read(1 << 20)
                    if not data:
                        break
                    yield depthd_pb2.EstimateRequest(chunk=depthd_pb2.VideoChunk(data=data))

        frames, summary, accepted = [], None, None
        for response in stub.Estimate(requests(), timeout=300):
            kind = response.WhichOneof("payload")
            if kind == "accepted":
                accepted = response.accepted
            elif kind == "frame":
                frames.append(response.frame)
            elif kind == "summary":
                summary = response.summary
        assert accepted is not None and accepted.job_id
        assert len(frames) == 8, len(frames)
        for i, frame in enumerate(frames):
            assert frame.index == i
            assert len(frame.data) == frame.width * frame.height * 4
            assert max(frame.width, frame.height) == 96
        assert summary is not None and summary.frames == 8 and summary.model == info.model.name
        status = stub.GetJob(depthd_pb2.GetJobRequest(job_id=accepted.job_id))
        assert status.state == depthd_pb2.JOB_STATE_SUCCEEDED, status
        print(f"python client: job {accepted.job_id}, {len(frames)} frames of "
              f"{frames[0].width}x{frames[0].height}, model {summary.model}")
        print("1 passed, 0 failed")
        return 0
    except Exception as error:  # report, never hang
        print(f"python client test failed: {error!r}")
        print("0 passed, 1 failed")
        return 1
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
