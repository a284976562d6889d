"""A stand-in for huggingface_hub: the names diffusers 0.30.0 imports. run_reference.py loads
only local folders; everything that would reach the Hub raises."""

__version__ = "0.24.0"  # the API generation diffusers 0.30.0 was written against

from . import constants, file_download, utils  # noqa: E402,F401
from .utils import (  # noqa: E402,F401
    EntryNotFoundError,
    LocalEntryNotFoundError,
    OfflineModeIsEnabled,
    RepositoryNotFoundError,
    RevisionNotFoundError,
    validate_hf_hub_args,
)


def _offline(name):
    def call(*args, **kwargs):
        raise OfflineModeIsEnabled(f"huggingface_hub.{name}: this stand-in has no network access")

    call.__name__ = name
    return call


create_repo = _offline("create_repo")
hf_hub_download = _offline("hf_hub_download")
model_info = _offline("model_info")
snapshot_download = _offline("snapshot_download")
upload_folder = _offline("upload_folder")
create_commit = _offline("create_commit")


def split_torch_state_dict_into_shards(state_dict, *args, **kwargs):
    raise NotImplementedError("saving sharded checkpoints is not in this stand-in")


class ModelCardData:
    def __init__(self, **kwargs):
        self.__dict__.update(kwargs)


class ModelCard:
    def __init__(self, content="", **kwargs):
        self.content = content

    @classmethod
    def load(cls, *args, **kwargs):
        raise OfflineModeIsEnabled("ModelCard.load: this stand-in has no network access")
