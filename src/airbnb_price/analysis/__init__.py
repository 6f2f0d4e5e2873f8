"""What the notebooks show: exploratory summaries and the ydata-profiling report (eda), the
figures (plots) and snapshot drift (drift). Training-side only."""
