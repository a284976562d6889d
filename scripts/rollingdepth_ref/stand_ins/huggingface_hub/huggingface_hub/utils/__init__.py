class HfHubHTTPError(OSError):
    pass


class RepositoryNotFoundError(HfHubHTTPError):
    pass


class RevisionNotFoundError(HfHubHTTPError):
    pass


class EntryNotFoundError(HfHubHTTPError):
    pass


class LocalEntryNotFoundError(EntryNotFoundError, FileNotFoundError):
    pass


class OfflineModeIsEnabled(ConnectionError):
    pass


def validate_hf_hub_args(fn):
    return fn


def is_jinja_available():
    return False
