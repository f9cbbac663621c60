#!/usr/bin/env bash
# `npm run deploy:local`: builds the server's and PostgreSQL's images, applies deploy/overlays/local (two server
# replicas sharing an in-cluster PostgreSQL) to the embedded local cluster and waits until the course answers through
# the Service. Prints the URL.
set -euo pipefail
shopt -s inherit_errexit

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/sandbox-server/cluster/local/lib.sh"
say() { printf '[deploy] %s\n' "$*" >&2; }

case "${1:-}" in
  -h | --help)
    printf 'usage: npm run deploy:local\n\nBuilds the server and PostgreSQL images, deploys two server replicas sharing a PostgreSQL\nto the local cluster (namespace sidecar-lab) and prints the URL of the course.\n'
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
postgres="docker.io/sidecar-lab/postgres:$(bash "$ROOT/sandbox-server/cluster/local/images.sh" --postgres \
  "$ROOT/deploy/postgres/start.sh")"
say "image $postgres"
ns=(-n sidecar-lab)
# The Secrets come before the Pods that read them: a server started without the database URL would use SQLite.
"${kubectl[@]}" apply -f "$ROOT/deploy/base/namespace.yaml" >&2
# Both are made once and kept: a new session key would sign every learner out, a new password would lock the
# servers out of a database that already has one.
if ! "${kubectl[@]}" "${ns[@]}" get secret sidecar-lab-session >/dev/null 2>&1; then
  "${kubectl[@]}" "${ns[@]}" create secret generic sidecar-lab-session \
    --from-literal=secret="$(head -c 48 /dev/urandom | base64 -w0)" >&2
fi
if ! "${kubectl[@]}" "${ns[@]}" get secret sidecar-lab-database >/dev/null 2>&1; then
  password=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n') # hex: nothing to escape in the URL
  "${kubectl[@]}" "${ns[@]}" create secret generic sidecar-lab-database --from-literal=password="$password" \
    --from-literal=url="postgres://postgres:$password@sidecar-lab-postgres:5432/sidecar_lab" >&2
fi
# The images by their content tags, so a rebuilt one rolls out and an unchanged one does not.
"${kubectl[@]}" kustomize "$ROOT/deploy/overlays/local" |
  sed -e "s#image: docker.io/sidecar-lab/server:latest#image: $image#" \
    -e "s#image: docker.io/sidecar-lab/postgres:latest#image: $postgres#" |
  "${kubectl[@]}" apply -f - >&2
"${kubectl[@]}" "${ns[@]}" rollout status deployment/sidecar-lab-postgres --timeout=300s >&2
"${kubectl[@]}" "${ns[@]}" rollout status deployment/sidecar-lab-server --timeout=300s >&2
url="http://$NODE_IP:30080"
for _ in $(seq 1 60); do
  curl -fsS --max-time 2 "$url/healthz" >/dev/null 2>&1 && break
  sleep 1
done
curl -fsS --max-time 5 "$url/healthz" >/dev/null || { say "error: $url/healthz does not answer"; exit 1; }
printf 'Sidecar Lab is deployed: %s\n' "$url"
