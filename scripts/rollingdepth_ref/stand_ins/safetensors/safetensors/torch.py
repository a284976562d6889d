"""safetensors.torch: load_file, save_file and safe_open over the documented file format
(an 8-byte little-endian header length, a JSON header, then the raw little-endian data)."""

import json
import struct

import torch

_DTYPES = {
    "F64": torch.float64,
    "F32": torch.float32,
    "F16": torch.float16,
    "BF16": torch.bfloat16,
    "I64": torch.int64,
    "I32": torch.int32,
    "I16": torch.int16,
    "I8": torch.int8,
    "U8": torch.uint8,
    "BOOL": torch.bool,
}
_NAMES = {v: k for k, v in _DTYPES.items()}


def _read_header(f):
    (length,) = struct.unpack("<Q", f.read(8))
    header = json.loads(f.read(length))
    return header, 8 + length


class safe_open:  # noqa: N801  (the real name)
    def __init__(self, filename, framework="pt", device="cpu"):
        if framework not in ("pt", "torch"):
            raise ValueError(f"framework {framework!r} is not supported by this stand-in")
        self._file = open(filename, "rb")
        self._header, self._start = _read_header(self._file)
        self._metadata = self._header.pop("__metadata__", None)
        self._device = device

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._file.close()

    def keys(self):
        return list(self._header.keys())

    def metadata(self):
        return self._metadata

    def get_tensor(self, name):
        info = self._header[name]
        begin, end = info["data_offsets"]
        self._file.seek(self._start + begin)
        data = bytearray(self._file.read(end - begin))
        dtype = _DTYPES[info["dtype"]]
        if end == begin:
            return torch.empty(info["shape"], dtype=dtype, device=self._device)
        tensor = torch.frombuffer(data, dtype=dtype).reshape(info["shape"])
        return tensor.to(self._device)


def load_file(filename, device="cpu"):
    with safe_open(filename, framework="pt", device=device) as f:
        return {name: f.get_tensor(name) for name in f.keys()}


def save_file(tensors, filename, metadata=None):
    header, chunks, offset = {}, [], 0
    if metadata is not None:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    for name, tensor in tensors.items():
        t = tensor.detach().contiguous().cpu()
        raw = t.view(torch.uint8).numpy().tobytes() if t.numel() else b""
        header[name] = {
            "dtype": _NAMES[t.dtype],
            "shape": list(t.shape),
            "data_offsets": [offset, offset + len(raw)],
        }
        chunks.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(filename, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for raw in chunks:
            f.write(raw)
