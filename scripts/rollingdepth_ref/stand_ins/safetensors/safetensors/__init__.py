"""A stand-in for the safetensors package (its torch API only), for run_reference.py."""

__version__ = "0.0-stand-in"

from . import torch  # noqa: E402,F401  (diffusers reaches it as safetensors.torch)
from .torch import safe_open  # noqa: E402,F401  (as the real package exports it)


class SafetensorError(Exception):
    pass
