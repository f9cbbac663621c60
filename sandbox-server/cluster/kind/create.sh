#!/usr/bin/env bash
# npm run cluster:kind — a kind cluster for laptops with Docker: create it, build the toolbox image, load it.
# It cannot run on the offline build machines (no kindest/node image there); the local provider is the default.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$HERE/../local/versions.env"
for tool in docker kind; do
  command -v "$tool" >/dev/null || { echo "cluster:kind needs '$tool' on PATH" >&2; exit 1; }
done
docker info >/dev/null 2>&1 || { echo "cluster:kind needs a running Docker engine" >&2; exit 1; }
if ! kind get clusters 2>/dev/null | grep -qx sidecar-lab; then
  kind create cluster --config "$HERE/kind-config.yaml"
fi
image="docker.io/sidecar-lab/toolbox:$K8S_VERSION"
docker build -t "$image" --build-arg "KUBECTL_VERSION=$K8S_VERSION" -f "$HERE/toolbox.Dockerfile" "$HERE"
kind load docker-image --name sidecar-lab "$image"
echo "kind cluster ready; use it with SIDECAR_LAB_CLUSTER=kubeconfig KUBECONFIG=\$(kind get kubeconfig-path 2>/dev/null || echo ~/.kube/config)"
