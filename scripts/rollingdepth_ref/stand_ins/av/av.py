"""A stand-in for PyAV: rollingdepth/video_io.py imports it at module level, and run_reference.py
never opens a video through it (frames come in as a .npy file)."""

__version__ = "0.0-stand-in"


def open(*args, **kwargs):  # noqa: A001  (the real name)
    raise RuntimeError("PyAV is not installed; run_reference.py reads frames from a .npy file")
