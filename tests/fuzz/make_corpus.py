#!/usr/bin/python3
"""Writes the seed corpora of the fuzz targets (tests/fuzz/corpus/<name>/).

Every seed is made here, by FFmpeg (images and containers), NumPy (.npy), this script
(.safetensors, sidecars) and protoc --encode (the request sequences): nothing is downloaded.
Run from anywhere:  /usr/bin/python3 tests/fuzz/make_corpus.py
Needs ffmpeg, protoc and python3-numpy (all in scripts/install-deps.sh). The files are small
(a few KB each) and committed; rerunning rewrites them (FFmpeg's output can differ by version).
Regression inputs of bugs the fuzzers found live beside the seeds as regress-*; this script
leaves them alone.
"""
import io
import json
import os
import pathlib
import struct
import subprocess
import tempfile

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CORPUS = HERE / "corpus"


def write(target, name, data):
    folder = CORPUS / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)


def ffmpeg(args, suffix):
    """Runs ffmpeg on a small test pattern and returns the output file's bytes."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out" + suffix)
        subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y"] + args + [out],
                       check=True)
        return pathlib.Path(out).read_bytes()


def pattern(size="24x16", frames=1, rate=5):
    return ["-f", "lavfi", "-i", f"testsrc2=size={size}:rate={rate}:duration={frames / rate}"]


def images():
    """One small image per format the server takes as a Frame."""
    one = pattern(frames=1) + ["-frames:v", "1"]
    return {
        "rgb.png": ffmpeg(one + ["-pix_fmt", "rgb24"], ".png"),
        "gray.png": ffmpeg(one + ["-pix_fmt", "gray"], ".png"),
        "rgba.png": ffmpeg(one + ["-pix_fmt", "rgba"], ".png"),
        "rgb48.png": ffmpeg(one + ["-pix_fmt", "rgb48be"], ".png"),
        "yuv420.jpg": ffmpeg(one + ["-pix_fmt", "yuvj420p"], ".jpg"),
        "yuv444.jpg": ffmpeg(one + ["-pix_fmt", "yuvj444p"], ".jpg"),
        "bgr24.bmp": ffmpeg(one + ["-pix_fmt", "bgr24"], ".bmp"),
        "pal8.bmp": ffmpeg(one + ["-pix_fmt", "pal8"], ".bmp"),
        "still.gif": ffmpeg(one, ".gif"),
        "lossy.webp": ffmpeg(one + ["-c:v", "libwebp", "-lossless", "0"], ".webp"),
        "lossless.webp": ffmpeg(one + ["-c:v", "libwebp", "-lossless", "1"], ".webp"),
        "alpha.webp": ffmpeg(one + ["-c:v", "libwebp", "-lossless", "0", "-pix_fmt", "yuva420p"],
                             ".webp"),
        "rgb.tif": ffmpeg(one + ["-pix_fmt", "rgb24"], ".tif"),
        "gray.tif": ffmpeg(one + ["-pix_fmt", "gray"], ".tif"),
    }


def rotate_90(mov):
    """Sets the video track's display matrix (tkhd) to a quarter turn, as phones record."""
    at = mov.index(b"tkhd") + 4
    assert mov[at] == 0, "version-0 tkhd expected"
    matrix_at = at + 4 + 4 * 5 + 8 + 8  # version/flags, times, track id, duration, layer...
    matrix = struct.pack(">9i", 0, 0x10000, 0, -0x10000, 0, 0, 0, 0, 0x40000000)
    return mov[:matrix_at] + matrix + mov[matrix_at + 36:]


def containers():
    """Short videos in each allowed container, a few frames at a small size."""
    three = pattern(size="32x24", frames=3)
    return {
        "h264.mp4": ffmpeg(three + ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt",
                                    "yuv420p", "-movflags", "+faststart"], ".mp4"),
        "mpeg4-rotated.mov": rotate_90(ffmpeg(three + ["-c:v", "mpeg4"], ".mov")),
        "vp8.webm": ffmpeg(three + ["-c:v", "libvpx", "-b:v", "50k"], ".webm"),
        "vp9.mkv": ffmpeg(three + ["-c:v", "libvpx-vp9", "-b:v", "50k"], ".mkv"),
        "mjpeg.avi": ffmpeg(three + ["-c:v", "mjpeg"], ".avi"),
        "mpeg2.ts": ffmpeg(three + ["-c:v", "mpeg2video"], ".ts"),
        "anim.gif": ffmpeg(three, ".gif"),
    }


def npy():
    def save(array, version=None, fortran=False):
        buffer = io.BytesIO()
        if fortran:
            array = np.asfortranarray(array)
        if version is None:
            np.save(buffer, array)
        else:
            np.lib.format.write_array(buffer, array, version=version)
        return buffer.getvalue()

    rng = np.random.default_rng(0)
    return {
        "f4-2x3x4.npy": save(rng.random((2, 3, 4), dtype=np.float32)),
        "f4-scalar.npy": save(np.array(1.5, dtype=np.float32)),
        "f4-empty-0x4.npy": save(np.zeros((0, 4), dtype=np.float32)),
        "f2-5.npy": save(rng.random(5).astype(np.float16)),
        "u2-2x2.npy": save(np.array([[0, 1], [65535, 300]], dtype=np.uint16)),
        "u1-3x1.npy": save(np.array([[0], [7], [255]], dtype=np.uint8)),
        "f4-v2-header.npy": save(rng.random((3, 2), dtype=np.float32), version=(2, 0)),
        "f4-fortran.npy": save(rng.random((2, 3), dtype=np.float32), fortran=True),
        "f8-refused.npy": save(np.arange(3, dtype=np.float64)),
        "i4-big-endian.npy": save(np.arange(3, dtype=">i4")),
    }


def safetensors_file(tensors, metadata=None):
    """tensors: name -> (dtype, shape, raw bytes), laid out in order."""
    header, data = {}, b""
    for name, (dtype, shape, raw) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    if metadata is not None:
        header["__metadata__"] = metadata
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)  # the format pads the header to 8 bytes
    return struct.pack("<Q", len(text)) + text + data


def safetensors():
    f32 = np.arange(6, dtype=np.float32).tobytes()
    f16 = np.array([0.5, -2, 65504, 1e-5], dtype=np.float16).tobytes()
    bf16 = (np.array([1, -1, 3.5, 0], dtype=np.float32).view(np.uint32) >> 16).astype(np.uint16).tobytes()
    return {
        "f32.safetensors": safetensors_file({"w": ("F32", [2, 3], f32)}, {"format": "pt"}),
        "mixed.safetensors": safetensors_file({
            "a.weight": ("F16", [4], f16),
            "b.weight": ("BF16", [2, 2], bf16),
            "c.index": ("I64", [1], struct.pack("<q", 42)),
            "d.mask": ("BOOL", [2], b"\x01\x00"),
        }),
        "empty-tensor.safetensors": safetensors_file({"e": ("F32", [0, 3], b"")}),
        "no-tensors.safetensors": safetensors_file({}, {"note": "empty"}),
    }


def sidecars():
    shipped = (ROOT / "models" / "tinysnippet.json").read_bytes()
    minimal = {"name": "m", "format": "torchscript", "snippet_length": 3}
    full = dict(minimal, size_multiple=64, output="affine_invariant_depth", supports_refine=True,
                description="all the fields")
    return {
        "tinysnippet.json": shipped,
        "minimal.json": json.dumps(minimal).encode(),
        "full.json": json.dumps(full, indent=2).encode(),
        "wrong-type.json": json.dumps(dict(minimal, snippet_length="3")).encode(),
        "out-of-range.json": json.dumps(dict(minimal, snippet_length=9)).encode(),
    }


def text_bytes(data):
    return '"' + "".join(f"\\{b:03o}" for b in data) + '"'


def encode_request(text):
    proto = ROOT / "proto"
    out = subprocess.run(["protoc", f"-I{proto}", "--encode=depthd.v1.EstimateRequest",
                          str(proto / "depthd/v1/depthd.proto")],
                         input=text.encode(), capture_output=True, check=True)
    return out.stdout


def varint(n):
    out = b""
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out += bytes([byte | 0x80])
        else:
            return out + bytes([byte])


def sequence(messages):
    """Varint-delimited EstimateRequest messages (text format), as request_fuzz reads them."""
    out = b""
    for text in messages:
        encoded = encode_request(text)
        out += varint(len(encoded)) + encoded
    return out


def requests(image, container):
    png, jpg = image["rgb.png"], image["yuv420.jpg"]
    mp4 = container["h264.mp4"]
    raw = bytes(range(4 * 4 * 3))
    frame = lambda data: f"frame {{ encoded: {text_bytes(data)} }}"
    raw_frame = f"frame {{ raw_rgb {{ width: 4 height: 4 data: {text_bytes(raw)} }} fps: 30 }}"
    return {
        "png-frames.bin": sequence(['spec { preset: "fast" processing_res: 64 }'] + [frame(png)] * 3),
        "mp4-chunks.bin": sequence(['spec { processing_res: 32 dilations: [1, 2] }',
                                    f"chunk {{ data: {text_bytes(mp4[:len(mp4) // 2])} }}",
                                    f"chunk {{ data: {text_bytes(mp4[len(mp4) // 2:])} }}"]),
        "live-raw.bin": sequence(['spec { live: true max_latency_frames: 20 processing_res: 16 '
                                  'normalization: NORMALIZATION_ALIGNED depth_encoding: DEPTH_ENCODING_FLOAT16 }']
                                 + [raw_frame] * 3),
        "refine-jpeg.bin": sequence(['spec { preset: "full" dtype: "fp16" refine_step: 2 '
                                     'coalign_scope: "global" processing_res: 48 resample_method: "bicubic" }',
                                     frame(jpg), frame(jpg)]),
        "windowed-range.bin": sequence(['spec { coalign_scope: "windowed" coalign_window: 10 '
                                        'coalign_solve_every: 2 start_frame: 1 frame_count: 2 '
                                        'normalization: NORMALIZATION_RUNNING depth_encoding: DEPTH_ENCODING_PNG16 '
                                        'coalign_solver: "fast" seed: 7 }',
                                        frame(png), raw_frame, frame(png)]),
        "resume-first.bin": sequence(['resume { job_id: "0123456789abcdef" }']),
    }


def main():
    image = images()
    container = containers()
    for name, data in image.items():
        write("image_header", name, data)
        write("demux", name, data)
    for name, data in container.items():
        write("demux", name, data)
    for name, data in npy().items():
        write("npy", name, data)
    for name, data in safetensors().items():
        write("safetensors", name, data)
    for name, data in sidecars().items():
        write("sidecar", name, data)
    for name, data in requests(image, container).items():
        write("request", name, data)
    for folder in sorted(CORPUS.iterdir()):
        files = list(folder.iterdir())
        print(f"{folder.name}: {len(files)} files, {sum(f.stat().st_size for f in files)} bytes")


if __name__ == "__main__":
    main()
