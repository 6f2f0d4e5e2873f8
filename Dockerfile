# The prediction endpoint's image: AWS's Lambda Python base + the serving install only (numpy,
# boto3, pydantic, shapely, powertools and the package with its compiled tree evaluator; no
# pandas, PyCaret, scikit-learn, SciPy or LightGBM), versions from the same lock as training.
# BASE is overridable: the container test builds on a local Debian/Python 3.11 base, because
# the public base image cannot be pulled offline.
ARG BASE=public.ecr.aws/lambda/python:3.11

# Stage 1: install into /opt/task. The package's C libraries (the tree evaluator,
# src/airbnb_price/serve/_trees.c, and the text scans, src/airbnb_price/core/_text.c) are
# compiled here, with portable flags (setup.py), by whatever C compiler the base's package
# manager has; the compiler never reaches the final image.
FROM ${BASE} AS build
# hadolint ignore=DL3008,DL3033,DL3041
RUN if ! command -v gcc >/dev/null; then \
      if command -v dnf >/dev/null; then dnf install -y gcc && dnf clean all; \
      elif command -v yum >/dev/null; then yum install -y gcc && yum clean all; \
      else apt-get update -q && apt-get install -y -q --no-install-recommends gcc libc6-dev; fi; \
    fi
COPY pyproject.toml setup.py README.md /tmp/build/
COPY requirements/constraints.txt /tmp/build/requirements/constraints.txt
COPY src /tmp/build/src
# The libraries' own test suites are never imported: pruned.
RUN python3 -m pip install --no-cache-dir --target /opt/task \
      -c /tmp/build/requirements/constraints.txt "/tmp/build[serving]" \
    && find /opt/task -depth -type d -name tests -exec rm -rf {} +

# Stage 2: the base image plus the installed files.
FROM ${BASE}
COPY --from=build /opt/task /var/task
COPY lambda/handler.py /var/task/handler.py
WORKDIR /var/task
CMD ["handler.handler"]
