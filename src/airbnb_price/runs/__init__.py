"""What a run leaves and its steps read: the run folder (each notebook's outputs and where its
upstream ones are), the run's example requests from real listings, and the provenance every
run and model records. Notebooks import it; it imports no tooling above it (the runner, the
CLI, deploys)."""
