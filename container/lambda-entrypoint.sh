#!/bin/sh
# As in AWS's Lambda base images: outside Lambda, run the handler under the Runtime Interface
# Emulator (HTTP on :8080); inside Lambda, talk to the real runtime API.
if [ -z "${AWS_LAMBDA_RUNTIME_API}" ]; then
  exec /usr/local/bin/aws-lambda-rie /usr/bin/python3 -m awslambdaric "$@"
fi
exec /usr/bin/python3 -m awslambdaric "$@"
