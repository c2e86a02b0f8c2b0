"""Benchmarking: sweep cases (``cases``), configs (``config``), the experiment interface (``experiment``), running
cases in isolated processes (``sweep``) and the results store (``store``)."""
