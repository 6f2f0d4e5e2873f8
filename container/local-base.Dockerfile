# A stand-in for public.ecr.aws/lambda/python:3.11 built from Debian packages, for the offline
# container test (make container-test): Python 3.11, libgomp, the Lambda runtime interface
# client (awslambdaric) and the Runtime Interface Emulator, wired like the AWS base image's
# /lambda-entrypoint.sh. ROOTFS is a Debian bookworm made by mmdebstrap and `podman import`.
ARG ROOTFS=localhost/airbnb-price-bookworm-rootfs
FROM ${ROOTFS}

# Debian marks its Python as externally managed (PEP 668); this image is ours alone.
RUN rm -f /usr/lib/python3.11/EXTERNALLY-MANAGED \
    && python3 -m pip install --no-cache-dir awslambdaric==3.1.1
COPY aws-lambda-rie /usr/local/bin/aws-lambda-rie
COPY lambda-entrypoint.sh /lambda-entrypoint.sh
ENV LAMBDA_TASK_ROOT=/var/task
WORKDIR /var/task
ENTRYPOINT ["/lambda-entrypoint.sh"]
