"""Helpers shared by the variant modules (framework-free)."""

DISTINCT_BATCHES = 8  # native loops cycle over this many pre-converted batches


def split_batches(x, y, batch_size, convert, count=DISTINCT_BATCHES):
    """The first `count` batches of (x, y), each converted with `convert` (outside timing)."""
    count = max(1, min(count, len(x) // batch_size))
    return [
        (convert(x[i * batch_size:(i + 1) * batch_size]), convert(y[i * batch_size:(i + 1) * batch_size]))
        for i in range(count)
    ]


def cycle_loop(step, batches, finish):
    """`run(n)`: n calls of `step(*batch)` over the batches in turn, then `finish(last result)`."""

    def run(n):
        result = None
        for i in range(n):
            result = step(*batches[i % len(batches)])
        finish(result)

    return run


def latency_loop(forward, x1, to_numpy):
    """`run(n)`: n batch-1 forward passes, each fetched as NumPy (the latency a caller sees)."""

    def run(n):
        for _ in range(n):
            to_numpy(forward(x1))

    return run
