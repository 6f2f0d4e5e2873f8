"""Training: the PyCaret experiment and its baselines (modeling), the compiler that turns a
fitted pipeline into the lean serving artifact (compiler) and the explanation figures
(explain). Never shipped in the Lambda image."""
