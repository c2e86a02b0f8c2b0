"""Benchmarking: sweep cases (``cases``), the config schema (``schema``) and loader (``config``), the experiment
interface (``experiment``), one case in its own process (``worker``), running sweeps (``sweep``) and the results
store (``store``)."""
