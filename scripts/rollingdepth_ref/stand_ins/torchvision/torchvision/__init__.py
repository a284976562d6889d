"""A stand-in for torchvision: the RollingDepth reference imports InterpolationMode and
transforms.functional.resize at module level; run_reference.py does not resize through them."""

__version__ = "0.0-stand-in"

from . import transforms  # noqa: E402,F401
