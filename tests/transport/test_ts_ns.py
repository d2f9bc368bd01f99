"""ts_ns (capture time in integer nanoseconds) is round(ts * 1e6) * 1000 exactly, also in the
compiled twin, which works it out in C numbers: halves round to even, huge times take
round() itself."""
from __future__ import annotations

import random

from analyzer.transport.tcp_analysis import ts_ns


def test_ts_ns_is_round_to_microseconds():
    rng = random.Random(7)
    times = [0.0, 5e-7, 1.5e-6, 2.5e-6, 4503599627.370496, 4503599627.3704955, 1.8e10, 1e13,
             2**32 + 0.9999995]
    times += [(rng.randrange(2**40) + 0.5) / 1e6 for _ in range(2000)]         # exact halves
    times += [rng.randrange(2**32) + rng.randrange(10**9) * 1e-9 for _ in range(2000)]
    times += [rng.uniform(0, 2e9) for _ in range(2000)]
    assert [ts_ns(t) for t in times] == [round(t * 1e6) * 1000 for t in times]
    assert ts_ns(2.5e-6) == 2000 and ts_ns(3.5e-6) == 4000
