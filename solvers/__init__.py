"""Backends, one module each; the registry imports every module here (see relubench.running.solver)."""
