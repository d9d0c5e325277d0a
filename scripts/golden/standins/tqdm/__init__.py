"""Stand-in for tqdm (Debian's python3 lacks it): the iterable itself, no progress bar."""


def tqdm(iterable=None, *args, **kwargs):
    return iterable
