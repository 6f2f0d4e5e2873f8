"""The top layer, what drives everything else: the notebook runner and its reports, the
command line, JupyterLab, the fleet and batch jobs on Dask. Imports every other layer; nothing
imports it, notebooks included (they call train, analysis, runs and ops)."""
