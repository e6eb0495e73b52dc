"""Network + options -> Report: the counting run, stages, per-layer overrides, sweeps, the paper's checks."""
