class CommitOperationAdd:
    def __init__(self, *args, **kwargs):
        raise NotImplementedError("uploads are not in this stand-in")
