"""Training: notebook 03's steps as functions (training: plan -> fit; model_folder: save),
sized by a budget (budget, progress), on a PyCaret experiment (experiment) against its baselines
(baselines), the feature-selection comparison (selection), the price range's calibration
(intervals), the compiler that turns a fitted pipeline into the served artifact (compiler,
estimators) and the explanation figures (explain). Never shipped in the Lambda image."""

import os

#: Threads that wait for work sleep instead of spinning: a threaded LightGBM fit on a busy
#: machine (2 cores, another process training) otherwise spins against it and a 30 s smoke
#: run took over 10 minutes. Set before LightGBM's OpenMP runtime starts (it is imported
#: lazily, after this package).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
