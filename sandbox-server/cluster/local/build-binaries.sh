#!/usr/bin/env bash
# Builds the pinned upstream Kubernetes components, etcd, CoreDNS and kube-router from the Go module
# proxy into a cache outside the repo. A second run finds the stamp files and returns in milliseconds.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$HERE/versions.env"

CACHE="${SIDECAR_LAB_CACHE:-$HOME/.cache/sidecar-lab}"
BIN="$CACHE/bin/k8s-$K8S_VERSION"
WORK="$CACHE/build"
mkdir -p "$BIN" "$WORK"
export CGO_ENABLED=0 GOFLAGS=-mod=mod GOTOOLCHAIN=local
export GOPATH="${GOPATH:-$HOME/go}"

say() { printf '[build] %s\n' "$*" >&2; }

# Compiler output goes to one log; the terminal gets progress. A failure names the log and shows its end.
LOG="$WORK/build.log"
step() { # step WHAT CMD...: runs CMD (a command or function) in the background, reporting every 30 s until it ends
  local what=$1; shift
  local start=$SECONDS next=$((SECONDS + 30)) rc=0
  printf '=== %s %s\n' "$(date -u +%FT%TZ)" "$what" >>"$LOG"
  "$@" >>"$LOG" 2>&1 &
  local pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    sleep 1
    if (( SECONDS >= next )); then
      say "still building $what: $(( (SECONDS - start) / 60 ))m $(( (SECONDS - start) % 60 ))s"
      next=$((SECONDS + 30))
    fi
  done
  wait "$pid" || rc=$?
  if (( rc != 0 )); then
    say "building $what failed (exit $rc); the last lines of $LOG:"
    tail -n 25 "$LOG" >&2
    exit "$rc"
  fi
  say "$what built in $(( (SECONDS - start) / 60 ))m $(( (SECONDS - start) % 60 ))s"
}

have_all() { for b in "$@"; do [[ -x "$BIN/$b" ]] || return 1; done; }

build_kubernetes() {
  local bins=(kube-apiserver kube-controller-manager kube-scheduler kubelet kubectl kube-proxy)
  if have_all "${bins[@]}"; then return; fi
  local dir="$WORK/kubernetes-$K8S_VERSION"
  mkdir -p "$dir"
  say "resolving k8s.io/kubernetes@$K8S_VERSION"
  local mod
  mod=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)",*/\1/p')
  local goline godebug staging_ver="v0.${K8S_VERSION#v1.}"
  goline=$(grep -m1 '^go ' "$mod")
  godebug=$(grep -m1 '^godebug ' "$mod" || true)
  {
    echo "module sidecarlab.local/k8sbin"
    echo "$goline"
    [[ -n "$godebug" ]] && echo "$godebug"
    echo "require k8s.io/kubernetes $K8S_VERSION"
    # The published go.mod points its staging modules at ./staging/...; rewrite each to the tagged module.
    sed -n 's#^\s*\(k8s\.io/[a-z0-9-]*\) => \./staging/src/.*#replace \1 => \1 '"$staging_ver"'#p' "$mod"
  } >"$dir/go.mod"
  cat >"$dir/tools.go" <<GO
//go:build tools

package tools
GO
  local ld="-s -w" minor="${K8S_VERSION#v1.}"; minor="${minor%%.*}"
  local date; date=$(date -u +%FT%TZ)
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld="$ld -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean -X $p.buildDate=$date"
  done
  say "building ${bins[*]} (cold: 10-40 min on 2 cores; compiler output in $LOG)"
  go_build_kubernetes() {
    cd "$dir" && go mod download k8s.io/kubernetes &&
      go build -trimpath -tags selinux,notest,grpcnotrace -ldflags "$ld" -o "$BIN/" \
        $(printf 'k8s.io/kubernetes/cmd/%s ' "${bins[@]}")
  }
  step "Kubernetes $K8S_VERSION" go_build_kubernetes
}

build_wrapped() { # name module version package [ldflags]
  local name=$1 module=$2 version=$3 pkg=$4 ld=${5:-"-s -w"}
  if have_all "$name"; then return; fi
  local dir="$WORK/$name-$version"
  mkdir -p "$dir"
  printf 'module sidecarlab.local/%s\ngo 1.25\nrequire %s %s\n' "$name" "$module" "$version" >"$dir/go.mod"
  say "building $name $version"
  go_build_wrapped() {
    cd "$dir" && go mod download "$module" && go get "$module@$version" &&
      go build -trimpath -ldflags "$ld" -o "$BIN/$name" "$pkg"
  }
  step "$name $version" go_build_wrapped
}

build_containerd() { # containerd and its runc shim, from one module
  local stamp="$BIN/.containerd-version"
  if have_all containerd containerd-shim-runc-v2 && [[ "$(cat "$stamp" 2>/dev/null)" == "$CONTAINERD_VERSION" ]]; then
    return
  fi
  local module=github.com/containerd/containerd/v2 dir="$WORK/containerd-$CONTAINERD_VERSION"
  mkdir -p "$dir"
  printf 'module sidecarlab.local/containerd\ngo 1.25\nrequire %s %s\n' "$module" "$CONTAINERD_VERSION" >"$dir/go.mod"
  say "building containerd $CONTAINERD_VERSION"
  go_build_containerd() {
    cd "$dir" && go mod download "$module" && go get "$module@$CONTAINERD_VERSION" &&
      go build -trimpath -tags "no_btrfs no_devmapper no_zfs" \
        -ldflags "-s -w -X $module/version.Version=$CONTAINERD_VERSION" \
        -o "$BIN/" "$module/cmd/containerd" "$module/cmd/containerd-shim-runc-v2"
  }
  step "containerd $CONTAINERD_VERSION" go_build_containerd
  echo "$CONTAINERD_VERSION" >"$stamp"
}

build_kubernetes
build_containerd
build_wrapped etcd go.etcd.io/etcd/server/v3 "$ETCD_VERSION" go.etcd.io/etcd/server/v3
build_wrapped coredns github.com/coredns/coredns "$COREDNS_VERSION" github.com/coredns/coredns
build_wrapped kube-router github.com/cloudnativelabs/kube-router/v2 "$KUBE_ROUTER_VERSION" \
  github.com/cloudnativelabs/kube-router/v2/cmd/kube-router
say "binaries ready in $BIN"
echo "$BIN"
