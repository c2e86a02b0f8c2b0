"""Running solvers: the backend interface and registry (``solver``), results and traces (``result``), reference
optima (``reference``) and accuracy metrics (``metrics``)."""
