"""Stand-in for einops (not installed): rearrange for the two patterns BiRefNet's image2patches
and patches2image use, written with reshape/permute exactly as einops lowers them."""
import re


def _groups(side):
    # "b c (hg h) (wg w)" -> [["b"], ["c"], ["hg", "h"], ["wg", "w"]]
    return [g.split() for g in re.findall(r"\(([^)]*)\)|(\S+)", side) for g in [g[0] or g[1]]]


def rearrange(tensor, pattern, **sizes):
    left, right = [_groups(s) for s in pattern.split("->")]
    shape = list(tensor.shape)
    known = dict(sizes)
    for dims, n in zip(left, shape):
        unknown = [d for d in dims if d not in known]
        product = 1
        for d in dims:
            if d in known:
                product *= known[d]
        if len(unknown) > 1:
            raise ValueError("einops stand-in: cannot infer %s" % unknown)
        if unknown:
            if n % product:
                raise ValueError("einops stand-in: %d not divisible by %d" % (n, product))
            known[unknown[0]] = n // product
        elif product != n:
            raise ValueError("einops stand-in: shape mismatch for %s" % dims)
    axes = [d for dims in left for d in dims]
    x = tensor.reshape([known[d] for d in axes])
    order = [axes.index(d) for dims in right for d in dims]
    x = x.permute(order)
    out_shape = []
    for dims in right:
        n = 1
        for d in dims:
            n *= known[d]
        out_shape.append(n)
    return x.reshape(out_shape)
