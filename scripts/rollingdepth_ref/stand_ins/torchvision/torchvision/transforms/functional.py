import torch.nn.functional as F


def resize(img, size, interpolation=None, max_size=None, antialias=None):
    mode = getattr(interpolation, "value", interpolation) or "bilinear"
    if mode not in ("nearest", "bilinear", "bicubic"):
        raise NotImplementedError(f"interpolation {mode} is not in this stand-in")
    if isinstance(size, int):
        h, w = img.shape[-2:]
        size = (size, round(w * size / h)) if h <= w else (round(h * size / w), size)
    kwargs = {} if mode == "nearest" else {"align_corners": False}
    shape = img.shape
    flat = img.reshape(-1, *shape[-3:]) if img.dim() > 4 else img if img.dim() == 4 else img[None]
    out = F.interpolate(flat, size=list(size), mode=mode, **kwargs)
    return out.reshape(*shape[:-2], *out.shape[-2:]) if img.dim() != 3 else out[0]
