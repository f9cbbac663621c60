# Shared settings and helpers for the local cluster scripts (sourced, not run).
# Every path, port and address of the local cluster is declared here, once.

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$HERE/versions.env"

CACHE="${SIDECAR_LAB_CACHE:-$HOME/.cache/sidecar-lab}"
STATE="${SIDECAR_LAB_STATE:-/var/lib/sidecar-lab}"
RUN_DIR="${SIDECAR_LAB_RUN:-/run/sidecar-lab}"
BIN="$CACHE/bin/k8s-$K8S_VERSION"
LOGS="$STATE/logs"
PIDS="$STATE/pids"
PKI="$STATE/pki"
KCFG="$STATE/kubeconfig"
ADMIN_KUBECONFIG="$KCFG/admin.kubeconfig"

NODE_NAME="sidecar-lab"
# The node lives on a bridge of its own so the cluster does not depend on (or leak onto) the host's network.
NODE_IFACE="sidecarlab0"
NODE_IP="10.240.0.1"
POD_CIDR="10.244.0.0/16"
NODE_POD_CIDR="10.244.0.0/24"
SERVICE_CIDR="10.96.0.0/16"
KUBERNETES_SVC_IP="10.96.0.1"
DNS_SVC_IP="10.96.0.10"
CNI_BRIDGE="slab-cni0"
CONTAINERD_SOCK="$RUN_DIR/containerd/containerd.sock"
REGISTRY_ADDR="127.0.0.1:5000"

# Colour only on a terminal, and never when NO_COLOR is set (no-color.org).
if [[ -t 2 && -z "${NO_COLOR:-}" ]]; then BOLD=$'\033[1m' RED=$'\033[31m' PLAIN=$'\033[0m'; else BOLD='' RED='' PLAIN=''; fi
say() { printf '%s[cluster]%s %s\n' "$BOLD" "$PLAIN" "$*" >&2; }
die() { printf '%s[cluster] error:%s %s\n' "$RED" "$PLAIN" "$*" >&2; exit 1; }

pid_of() { # prints the pid of a component started by us, when it is alive
  local f="$PIDS/$1.pid"
  [[ -f "$f" ]] || return 1
  local pid; pid=$(<"$f")
  kill -0 "$pid" 2>/dev/null || return 1
  # After a reboot the number may belong to another process (the registry took CoreDNS's once): only our supervisor,
  # which carries the component's name as an argument, counts.
  tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | grep -qxF -- "$1" || return 1
  echo "$pid"
}

# start_bg NAME CMD... : runs a component detached under a small supervisor that restarts it when it exits (as
# systemd would), logging to $LOGS/NAME.log. The supervisor leads its own process group, so stop_bg ends both.
start_bg() {
  local name=$1; shift
  if pid_of "$name" >/dev/null; then return 0; fi
  mkdir -p "$LOGS" "$PIDS"
  setsid bash -c 'while :; do "$@"; echo "[supervisor] $1 exited with $?; restarting in 1s"; sleep 1; done' \
    "$name" "$@" >>"$LOGS/$name.log" 2>&1 </dev/null &
  echo $! >"$PIDS/$name.pid"
}

stop_bg() { # stop_bg NAME [SECONDS]: SIGTERM to the whole group, then SIGKILL after the grace period
  local name=$1 grace=${2:-10} pid
  pid=$(pid_of "$name") || { rm -f "$PIDS/$name.pid"; return 0; }
  kill -TERM -- "-$pid" 2>/dev/null || true
  for ((i = 0; i < grace * 10; i++)); do kill -0 -- "-$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL -- "-$pid" 2>/dev/null || true
  rm -f "$PIDS/$name.pid"
}

# write_if_changed FILE [COMPONENT]: stdin becomes FILE only when it differs, since some components (kube-proxy) exit
# when their config file changes under them. A changed file names its COMPONENT in STALE_COMPONENTS, for a restart.
STALE_COMPONENTS=()
write_if_changed() {
  local tmp; tmp=$(mktemp)
  cat >"$tmp"
  if cmp -s "$tmp" "$1"; then rm -f "$tmp"; return 0; fi
  [[ -f "$1" && -n "${2:-}" ]] && STALE_COMPONENTS+=("$2")
  mv "$tmp" "$1"; chmod 644 "$1"
}

# wait_for WHAT SECONDS CMD...: polls CMD until it succeeds; on timeout names the log to read.
wait_for() {
  local what=$1 secs=$2; shift 2
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || die "$what did not become ready within ${secs}s; see $LOGS/"
    sleep 0.3
  done
}

kubectl_admin() { "$BIN/kubectl" --kubeconfig "$ADMIN_KUBECONFIG" "$@"; }

port_owner() { # prints "pid/name" of whatever listens on the TCP port, if anything
  ss -Hltnp "sport = :$1" 2>/dev/null | sed -n 's/.*users:(("\([^"]*\)",pid=\([0-9]*\).*/\2\/\1/p' | head -1
}
