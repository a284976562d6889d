"""A stand-in for einops' rearrange and repeat (no ellipsis), for run_reference.py.

A pattern is "left -> right": space-separated axes, each a name, a literal size, or a
parenthesised group of them. rearrange reorders and regroups; repeat may add axes on the
right whose sizes come from the keyword arguments (or are literals).
"""

import math

__version__ = "0.0-stand-in"


def _parse(side):
    groups, current, literal = [], None, 0
    for token in side.replace("(", " ( ").replace(")", " ) ").split():
        if token == "(":
            if current is not None:
                raise ValueError(f"nested group in {side!r}")
            current = []
        elif token == ")":
            groups.append(current)
            current = None
        else:
            if token.isdigit():
                literal += 1
                axis = (f"_{literal}", int(token))
            else:
                axis = (token, None)
            if current is None:
                groups.append([axis])
            else:
                current.append(axis)
    if current is not None:
        raise ValueError(f"unclosed group in {side!r}")
    return groups


def _solve(tensor, left, sizes):
    if tensor.dim() != len(left):
        raise ValueError(f"pattern has {len(left)} axes, the tensor {tensor.dim()}")
    for group, dim in zip(left, tensor.shape):
        known, unknown = 1, []
        for name, literal in group:
            if literal is not None:
                sizes[name] = literal
            if name in sizes:
                known *= sizes[name]
            else:
                unknown.append(name)
        if len(unknown) > 1:
            raise ValueError(f"cannot infer the sizes of {unknown}")
        if unknown:
            if dim % known:
                raise ValueError(f"axis of {dim} does not split by {known}")
            sizes[unknown[0]] = dim // known
        elif known != dim:
            raise ValueError(f"axis of {dim} does not match the pattern's {known}")
    return sizes


def _apply(tensor, pattern, allow_new, axes):
    left_text, right_text = pattern.split("->")
    left, right = _parse(left_text), _parse(right_text)
    sizes = _solve(tensor, left, dict(axes))
    # Literal axes on the left are dropped (size 1) or must be matched by name on the right.
    left_names = [name for group in left for name, literal in group if literal is None]
    elementary = tensor.reshape([sizes[n] for n in left_names]) if left_names else tensor.reshape([])
    right_names = [name for group in right for name, literal in group]
    missing = [n for n in left_names if n not in right_names]
    if missing:
        raise ValueError(f"axes {missing} are on the left only")
    order = [left_names.index(n) for n in right_names if n in left_names]
    elementary = elementary.permute(order) if order else elementary
    # New axes: literal 1s (any pattern) and, for repeat, named or literal sizes, as size-1
    # views expanded to their size.
    shape = []
    for group in right:
        for name, literal in group:
            if name not in left_names:
                size = literal if literal is not None else axes.get(name)
                if size is None:
                    raise ValueError(f"size of new axis {name} not given")
                if size != 1 and not allow_new:
                    raise ValueError(f"axis {name} is new on the right; use repeat")
                sizes[name] = size
                elementary = elementary.unsqueeze(len(shape))
            shape.append(sizes[name])
    elementary = elementary.expand(shape)
    final = [math.prod(sizes[name] for name, _ in group) for group in right]
    return elementary.reshape(final)


def rearrange(tensor, pattern, **axes):
    return _apply(tensor, pattern, False, axes)


def repeat(tensor, pattern, **axes):
    return _apply(tensor, pattern, True, axes)
