# The prediction endpoint's image: AWS's Lambda Python base + the serving requirements only
# (no pandas, no PyCaret), versions from the same lock as training so the model unpickles.
# BASE is overridable: the container test builds on a local Debian/Python 3.11 base, because
# the public base image cannot be pulled offline.
ARG BASE=public.ecr.aws/lambda/python:3.11
FROM ${BASE}

# LightGBM links OpenMP's runtime (libgomp.so.1), which the Lambda base image lacks.
# hadolint ignore=DL3033
RUN if ! python3 -c "import ctypes.util as u, sys; sys.exit(not u.find_library('gomp'))"; then \
      yum install -y libgomp && yum clean all && rm -rf /var/cache/yum; \
    fi

# The package with its `serving` extra, every version from requirements/constraints.txt.
# The libraries' own test suites (~57 MB of numpy/scipy/sklearn) are never imported: pruned.
COPY pyproject.toml README.md /tmp/build/
COPY requirements/constraints.txt /tmp/build/requirements/constraints.txt
COPY src /tmp/build/src
RUN python3 -m pip install --no-cache-dir --target /var/task \
      -c /tmp/build/requirements/constraints.txt "/tmp/build[serving]" \
    && find /var/task -depth -type d -name tests -exec rm -rf {} + \
    && rm -rf /tmp/build

COPY lambda/handler.py /var/task/handler.py
WORKDIR /var/task
CMD ["handler.handler"]
