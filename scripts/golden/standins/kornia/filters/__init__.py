"""kornia.filters.laplacian: BiRefNet imports it for the training-only out_ref gradient label;
inference never calls it."""


def laplacian(*args, **kwargs):
    raise NotImplementedError("kornia stand-in: laplacian is used in training only")
