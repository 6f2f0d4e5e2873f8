#!/usr/bin/env bash
# Build the endpoint image from the repo's Dockerfile on a local Debian base, with podman,
# offline from any container registry. Installs podman & co. from Debian when missing.
#   container/build.sh [IMAGE]      (make container-test calls it, then tests/local/test_container.py)
set -euo pipefail
cd "$(dirname "$0")/.."
IMAGE=${1:-localhost/airbnb-price-predict:test}
WORK=${CONTAINER_WORK:-.container-build}
SAM_CLI=aws-sam-cli==1.170.0   # ships the aws-lambda-rie binaries
PODMAN=(podman --storage-driver vfs --runtime runc --cgroup-manager cgroupfs)
# Build steps reach PyPI through this machine's network; lend them its CA bundle (a TLS proxy
# may sit in between) without baking it into any layer.
CA_BUNDLE=${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}
BUILD=(build --quiet --network host --ulimit nofile=1024:1024 --ulimit nproc=4096:4096
       --volume "$CA_BUNDLE:/etc/ssl/certs/ca-certificates.crt:ro"
       --env PIP_CERT=/etc/ssl/certs/ca-certificates.crt)

if ! command -v podman >/dev/null || ! command -v mmdebstrap >/dev/null; then
  apt-get install -y -q podman buildah runc mmdebstrap uidmap >/dev/null
fi
mkdir -p "$WORK/base"
if ! "${PODMAN[@]}" image exists localhost/airbnb-price-bookworm-rootfs; then
  mmdebstrap --quiet --variant=minbase --include=python3,python3-pip,libgomp1,ca-certificates \
    bookworm "$WORK/rootfs.tar"
  "${PODMAN[@]}" import --quiet "$WORK/rootfs.tar" localhost/airbnb-price-bookworm-rootfs
  rm -f "$WORK/rootfs.tar"
fi
if ! "${PODMAN[@]}" image exists localhost/airbnb-price-lambda-base; then
  .venv/bin/pip download --quiet --no-deps "$SAM_CLI" -d "$WORK/sam"
  unzip -o -j -q "$WORK"/sam/*.whl "samcli/local/rapid/aws-lambda-rie-$(uname -m)" -d "$WORK/base"
  mv "$WORK/base/aws-lambda-rie-$(uname -m)" "$WORK/base/aws-lambda-rie"
  chmod +x "$WORK/base/aws-lambda-rie"
  cp container/lambda-entrypoint.sh "$WORK/base/"
  "${PODMAN[@]}" "${BUILD[@]}" -f container/local-base.Dockerfile -t localhost/airbnb-price-lambda-base "$WORK/base"
fi
# The real Dockerfile, unchanged, on the local base.
"${PODMAN[@]}" "${BUILD[@]}" --build-arg BASE=localhost/airbnb-price-lambda-base -t "$IMAGE" .
echo "$IMAGE"
