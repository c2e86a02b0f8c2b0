"""Seed experiments: one module per kind, each registering an Experiment (see relubench.bench.experiment).

The ``[[experiments]]`` tables of a sweep config expand into ordinary cases, tagged with their kind in the
``experiment`` column; the report's main tables leave them out and draw one section per kind instead. Keys common
to all kinds (:class:`relubench.experiments.common.CaseBuilder`): ``dataset`` (default "gaussian"),
``dataset_options`` (a table, e.g. ``{labels = "random"}``), ``d``, ``beta_per_n`` (default 1e-3; or ``beta``),
``seeds`` (data and pattern seeds), ``time_limit``, ``options`` (a table of solver options per solver name).
Each kind's own keys are in its module's docstring. Adding a kind is adding one module here.
"""
