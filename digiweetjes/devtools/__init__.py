"""Tools beside the pipeline, never imported by it: the benchmarks (``bench_*``), the demo's
subscribers and send (``demo_subscribers``, ``demo_send``), bulk synthetic subscribers for tests
and benchmarks (``synthetic``) and the fake mail provider on loopback (``fake_provider``).

They may read the real clock and start processes: they are entry points, like ``cli``.
"""
