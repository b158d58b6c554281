"""A fake of every authentic source over a generated demo population, with latency and fault injection.

Served on its own by ``rp-api simulator``, next to the API by ``rp-api demo``, and in-process in the tests.
"""
