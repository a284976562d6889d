"""A stand-in for transformers: the RollingDepth reference imports CLIPTextModel and
CLIPTokenizer at module level. Without the real package run_reference.py cannot run the text
encoder and sets the pipeline's empty-prompt embedding from a file instead (and says so)."""

__version__ = "0.0-stand-in"


class _Missing:
    def __init__(self, *args, **kwargs):
        raise ImportError(f"{type(self).__name__}: transformers is not installed")

    @classmethod
    def from_pretrained(cls, *args, **kwargs):
        raise ImportError(f"{cls.__name__}.from_pretrained: transformers is not installed")


class CLIPTextModel(_Missing):
    pass


class CLIPTokenizer(_Missing):
    pass
