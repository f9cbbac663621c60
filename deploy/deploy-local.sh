#!/usr/bin/env bash
# `npm run deploy:local`: builds the server's image, applies deploy/overlays/local to the embedded local cluster and
# waits until the course answers through the Service. Prints the URL.
set -euo pipefail
shopt -s inherit_errexit

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/sandbox-server/cluster/local/lib.sh"
say() { printf '[deploy] %s\n' "$*" >&2; }

case "${1:-}" in
  -h | --help)
    printf 'usage: npm run deploy:local\n\nBuilds the server image, deploys it to the local cluster (namespace sidecar-lab)\nand prints the URL of the course.\n'
    exit 0
    ;;
  '') ;;
  *)
    printf 'deploy:local: unknown argument "%s" (try --help)\n' "$1" >&2
    exit 2
    ;;
esac

[[ $EUID -eq 0 ]] || { say "error: run as root (the image is built with buildah, like the cluster's others)"; exit 1; }
bash "$ROOT/sandbox-server/cluster/local/cluster.sh" status >/dev/null 2>&1 ||
  { say "error: the local cluster is not running; start it with: npm run cluster:up"; exit 1; }
export KUBECONFIG="$ADMIN_KUBECONFIG"
kubectl=("$BIN/kubectl")

image=$(bash "$ROOT/deploy/build-image.sh")
say "image $image"
# The image by its content tag, so a rebuilt server rolls out and an unchanged one does not.
"${kubectl[@]}" kustomize "$ROOT/deploy/overlays/local" |
  sed "s#image: docker.io/sidecar-lab/server:latest#image: $image#" |
  "${kubectl[@]}" apply -f - >&2
# The session key is made once and kept: a new key would sign every learner out.
if ! "${kubectl[@]}" -n sidecar-lab get secret sidecar-lab-session >/dev/null 2>&1; then
  "${kubectl[@]}" -n sidecar-lab create secret generic sidecar-lab-session \
    --from-literal=secret="$(head -c 48 /dev/urandom | base64 -w0)" >&2
fi
"${kubectl[@]}" -n sidecar-lab rollout status deployment/sidecar-lab-server --timeout=300s >&2
url="http://$NODE_IP:30080"
for _ in $(seq 1 60); do
  curl -fsS --max-time 2 "$url/healthz" >/dev/null 2>&1 && break
  sleep 1
done
curl -fsS --max-time 5 "$url/healthz" >/dev/null || { say "error: $url/healthz does not answer"; exit 1; }
printf 'Sidecar Lab is deployed: %s\n' "$url"
