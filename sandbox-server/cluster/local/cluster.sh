#!/usr/bin/env bash
# The embedded local cluster: a real single-node Kubernetes run from upstream components as local processes.
#   cluster.sh up [--nodes 2]  build (cached) and start everything; idempotent; --nodes 2 adds a second node
#   cluster.sh down [--node 2] stop everything; no process, mount, interface or iptables rule of ours is left
#                              (--node 2: only the second node, and its Node object; node 1 keeps running)
#   cluster.sh status      exit 0 only when every component runs and the node(s) are Ready
#   cluster.sh kubeconfig  print the admin kubeconfig path
#   cluster.sh reset       down, then forget all cluster state (etcd data, certificates)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$HERE/pki.sh"
source "$HERE/configs.sh"
source "$HERE/registry.sh"
source "$HERE/node2.sh"

COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler containerd kubelet kube-proxy coredns kube-router)

# --- prerequisites -----------------------------------------------------------------------------------------------

# command → Debian package that provides it
declare -A PACKAGES=(
  [containerd]=containerd [runc]=runc [/usr/lib/cni/bridge]=containernetworking-plugins [iptables]=iptables
  [ipset]=ipset [conntrack]=conntrack [nft]=nftables [docker-registry]=docker-registry [skopeo]=skopeo
  [buildah]=buildah [umoci]=umoci [/bin/busybox]=busybox-static [debootstrap]=debootstrap [openssl]=openssl
  [curl]=curl [ss]=iproute2 [gcc]=gcc [/usr/include/stdio.h]=libc6-dev
)

check_host() {
  [[ "$(uname -s)" == Linux ]] || die "the local cluster runs on Linux only; on this machine use the kind or kubeconfig provider"
  [[ $EUID -eq 0 ]] || die "the local cluster needs root (it runs containerd and the kubelet); run as root or use the kind or kubeconfig provider"
  local missing=()
  for cmd in "${!PACKAGES[@]}"; do
    if [[ $cmd == /* ]]; then [[ -e $cmd ]] || missing+=("${PACKAGES[$cmd]}")
    else command -v "$cmd" >/dev/null || missing+=("${PACKAGES[$cmd]}"); fi
  done
  if ((${#missing[@]})); then
    command -v apt-get >/dev/null || die "missing Debian packages: ${missing[*]} (and no apt-get to install them)"
    say "installing Debian packages: ${missing[*]}"
    apt-get update -qq >"$LOGS/apt.log" 2>&1 || die "apt-get update failed; see $LOGS/apt.log"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >>"$LOGS/apt.log" 2>&1 \
      || die "apt-get install ${missing[*]} failed; see $LOGS/apt.log"
  fi
  if [[ ! -x "$BIN/kube-router" ]]; then
    command -v go >/dev/null || die "Go is needed once to build the Kubernetes binaries into $BIN (install Go >= 1.25)"
  fi
}

check_ports() { # a port held by someone else is a clear error, not a crash loop
  local port owner
  for port in 2379 2380 6443 10250 10257 10259 5000; do
    owner=$(port_owner "$port")
    [[ -z "$owner" ]] && continue
    local pid=${owner%%/*} ours=0 group
    group=$(ps -o pgid= -p "$pid" | tr -d ' ')
    local mine
    for c in "${COMPONENTS[@]}"; do
      mine=$(pid_of "$c" || true)
      [[ -n "$mine" && ( "$mine" == "$pid" || "$mine" == "$group" ) ]] && ours=1
    done
    mine=$(_registry_pid "$STATE" || true)
    [[ -n "$mine" && "$mine" == "$pid" ]] && ours=1
    ((ours)) && continue
    # A component of ours whose supervisor died (killed by hand, say) still holds its port: replace it.
    if [[ "$(readlink -f "/proc/$pid/exe" 2>/dev/null)" == "$BIN"/* || "$(readlink -f "/proc/$pid/exe" 2>/dev/null)" == */containerd ]]; then
      say "stopping a leftover ${owner#*/} (pid $pid) that lost its supervisor"
      kill -TERM "$pid" 2>/dev/null || true
      for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$pid" 2>/dev/null || true
      continue
    fi
    die "port $port is already in use by $owner; stop it or run 'npm run cluster:down' if it is a leftover of ours"
  done
}

prepare_host() {
  mount --make-rshared / # mount propagation for volumes (no systemd here to do it)
  sysctl -qw net.ipv4.ip_forward=1
  sysctl -qw net.bridge.bridge-nf-call-iptables=1 2>/dev/null || say "warning: bridge netfilter is unavailable; Services between pods may not work"
  if ! ip link show "$NODE_IFACE" >/dev/null 2>&1; then
    ip link add "$NODE_IFACE" type bridge
    ip addr add "$NODE_IP/32" dev "$NODE_IFACE"
  fi
  ip link set "$NODE_IFACE" up
  # Pod traffic stays on this machine: nothing from a Pod is forwarded off the host, and a Service address that
  # kube-proxy has not programmed yet goes nowhere instead of out of the default route.
  ip route replace blackhole "$SERVICE_CIDR"
  local rule=(FORWARD -s "$POD_CIDR" ! -d "$POD_CIDR" -m comment --comment sidecar-lab-stay-local -j DROP)
  iptables -C "${rule[@]}" 2>/dev/null || iptables -I "${rule[@]}"
}

# --- components -----------------------------------------------------------------------------------------------------

start_control_plane() {
  start_bg etcd "$BIN/etcd" --name sidecar-lab --data-dir "$STATE/etcd" \
    --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
    --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
    --initial-cluster sidecar-lab=http://127.0.0.1:2380 --listen-metrics-urls http://127.0.0.1:2381 \
    --quota-backend-bytes 2147483648 --log-level warn
  # A large data directory (after a day of test runs) takes etcd over 30 s to replay on a busy 2-core machine.
  wait_for etcd 180 curl -fsS http://127.0.0.1:2381/health

  start_bg kube-apiserver "$BIN/kube-apiserver" --etcd-servers=http://127.0.0.1:2379 \
    --bind-address="$NODE_IP" --advertise-address="$NODE_IP" --secure-port=6443 \
    --tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key" --client-ca-file="$PKI/ca.crt" \
    --authorization-mode=Node,RBAC --enable-admission-plugins=NodeRestriction,DenyServiceExternalIPs \
    --service-cluster-ip-range="$SERVICE_CIDR" --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$PKI/sa.pub" --service-account-signing-key-file="$PKI/sa.key" \
    --service-account-extend-token-expiration=false \
    --kubelet-client-certificate="$PKI/apiserver-kubelet-client.crt" --kubelet-client-key="$PKI/apiserver-kubelet-client.key" \
    --kubelet-preferred-address-types=InternalIP,Hostname \
    --allow-privileged=true --profiling=false --event-ttl=1h
  wait_for kube-apiserver 90 kubectl_admin get --raw /readyz

  start_bg kube-controller-manager "$BIN/kube-controller-manager" \
    --kubeconfig="$KCFG/controller-manager.kubeconfig" \
    --authentication-kubeconfig="$KCFG/controller-manager.kubeconfig" \
    --authorization-kubeconfig="$KCFG/controller-manager.kubeconfig" \
    --bind-address=127.0.0.1 --service-account-private-key-file="$PKI/sa.key" --root-ca-file="$PKI/ca.crt" \
    --cluster-signing-cert-file="$PKI/ca.crt" --cluster-signing-key-file="$PKI/ca.key" \
    --use-service-account-credentials --service-cluster-ip-range="$SERVICE_CIDR" --cluster-cidr="$POD_CIDR" \
    --leader-elect=false --profiling=false
  start_bg kube-scheduler "$BIN/kube-scheduler" --kubeconfig="$KCFG/scheduler.kubeconfig" \
    --authentication-kubeconfig="$KCFG/scheduler.kubeconfig" --authorization-kubeconfig="$KCFG/scheduler.kubeconfig" \
    --bind-address=127.0.0.1 --leader-elect=false --profiling=false
  kubectl_admin apply --server-side --force-conflicts -f "$HERE/bootstrap.yaml" >"$LOGS/bootstrap.log"
}

start_node() {
  # The shim is looked up on PATH: ours, next to our containerd.
  start_bg containerd env "PATH=$BIN:$PATH" "$BIN/containerd" --config "$STATE/containerd/config.toml"
  wait_for containerd 30 test -S "$CONTAINERD_SOCK"
  start_bg kubelet "$BIN/kubelet" --config="$STATE/kubelet/config.yaml" --kubeconfig="$KCFG/kubelet.kubeconfig" \
    --hostname-override="$NODE_NAME" --node-ip="$NODE_IP" --root-dir="$STATE/kubelet/root" \
    --cert-dir="$STATE/kubelet/pki"
  start_bg kube-proxy "$BIN/kube-proxy" --config="$STATE/kube-proxy.yaml"
  start_bg coredns "$BIN/coredns" -conf "$STATE/coredns/Corefile"
  wait_for "the node" 120 node_ready
  # kube-router looks its Node up at start, so it comes after the kubelet registered it.
  start_bg kube-router "$BIN/kube-router" --kubeconfig="$KCFG/kube-router.kubeconfig" \
    --hostname-override="$NODE_NAME" --run-firewall=true --run-router=false --run-service-proxy=false \
    --enable-ibgp=false --enable-overlay=false --enable-pod-egress=false --health-port=20244 --metrics-port=0
  wait_for kube-router 30 curl -fsS http://127.0.0.1:20244/healthz
  wait_for coredns 30 curl -fsS http://127.0.0.1:18181/ready
}

node_ready() {
  [[ "$(kubectl_admin get node "$NODE_NAME" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" == True ]]
}

# --- commands -------------------------------------------------------------------------------------------------------

cmd_up() {
  local nodes=1
  case "${1:-}" in
    --nodes) nodes=${2:-}; [[ $nodes == 1 || $nodes == 2 ]] || die "--nodes takes 1 or 2" ;;
    --nodes=*) nodes=${1#--nodes=}; [[ $nodes == 1 || $nodes == 2 ]] || die "--nodes takes 1 or 2" ;;
    "") ;;
    *) die "unknown option for up: $1" ;;
  esac
  mkdir -p "$LOGS" "$PIDS"
  check_host
  check_ports
  local t0=$SECONDS
  say "binaries (Kubernetes $K8S_VERSION; cached in $BIN)"
  bash "$HERE/build-binaries.sh" >/dev/null 2> >(tee -a "$LOGS/build.log" | grep --line-buffered '^\[build\]' >&2)
  prepare_host
  make_pki
  write_configs
  restart_stale
  say "registry and offline images"
  registry_start "$STATE" "$CACHE"
  bash "$HERE/images.sh" "$BIN/kubectl" "$K8S_VERSION"
  say "control plane"
  start_control_plane
  say "node: containerd, kubelet, kube-proxy, CoreDNS, kube-router (network policies)"
  start_node
  # A second node already up stays up (and is brought in line with its config) when `up` runs without --nodes.
  if ((nodes == 2)) || node2_configured; then node2_up; fi
  say "cluster ready in $((SECONDS - t0))s"
  say "kubeconfig: $ADMIN_KUBECONFIG"
  say "logs: $LOGS"
}

restart_stale() { # a running component whose config file changed is stopped here and started again below
  local c
  # A containerd other than ours (Debian's, from an earlier version of this script) is replaced; its Pods keep running.
  if pid_of containerd >/dev/null && ! pgrep -f "^$BIN/containerd --config" >/dev/null; then
    say "restarting containerd: now $CONTAINERD_VERSION, built from the module proxy"
    stop_bg containerd
  fi
  for c in $(printf '%s\n' "${STALE_COMPONENTS[@]}" | sort -u); do
    pid_of "$c" >/dev/null || continue
    say "restarting $c: its config changed"
    stop_bg "$c"
  done
}

kill_pod_processes() { # kill_pod_processes [CGROUP]: node 1's Pods live under /kubepods, node 2's under its own root
  # Every container process lives in the node's Pod cgroups; killing them there leaves no orphan behind the shims.
  local root=${1:-/kubepods} procs ctl
  for ctl in pids memory cpu; do
    [[ -d /sys/fs/cgroup/$ctl$root ]] || continue
    procs=$(find "/sys/fs/cgroup/$ctl$root" -name cgroup.procs -exec cat {} + 2>/dev/null | sort -u || true)
    [[ -n "$procs" ]] && kill -KILL $procs 2>/dev/null || true
  done
  sleep 0.5
  for ctl in /sys/fs/cgroup/*/; do
    [[ -d "$ctl${root#/}" ]] && find "$ctl${root#/}" -depth -type d -exec rmdir {} + 2>/dev/null || true
  done
}

sweep_iptables() { # removes every chain and rule that kube-proxy, kube-router and the CNI plugins created
  local tool
  for tool in iptables ip6tables; do
    command -v "$tool-save" >/dev/null || continue
    local saved; saved=$("$tool-save" 2>/dev/null) || continue
    grep -qE 'KUBE-|CNI-|sidecar-lab' <<<"$saved" || continue
    grep -vE '^:(KUBE-|CNI-)|^-A (KUBE-|CNI-)|-j (KUBE-|CNI-)|-g (KUBE-|CNI-)|sidecar-lab' <<<"$saved" \
      | "$tool-restore" 2>>"$LOGS/down.log" || say "warning: could not restore $tool rules; see $LOGS/down.log"
  done
  local set
  for set in $(ipset list -n 2>/dev/null | grep -E '^(KUBE-|kube-router)' || true); do
    ipset destroy "$set" 2>/dev/null || true
  done
}

unmount_ours() {
  local m
  for m in $(findmnt -rn -o TARGET | grep -E "^($STATE|$RUN_DIR|/run/netns/cni-|/var/run/netns/cni-)" | sort -r); do
    umount -l "$m" 2>/dev/null || true
  done
  rm -f /run/netns/cni-* 2>/dev/null || true
}

cmd_down() {
  mkdir -p "$LOGS" "$PIDS"
  if [[ ${1:-} == --node && ${2:-} == 2 ]]; then
    say "stopping node 2"
    node2_down forget
    say "node 2 stopped"
    return 0
  fi
  [[ -z ${1:-} ]] || die "down takes no option but --node 2"
  say "stopping node 2 (if any) and node components"
  node2_down forget
  for c in kube-router kube-proxy coredns kubelet; do stop_bg "$c"; done
  kill_pod_processes
  stop_bg containerd
  pkill -KILL -f "containerd-shim-runc-v2 .*-address $CONTAINERD_SOCK" 2>/dev/null || true
  say "stopping control plane and registry"
  for c in kube-scheduler kube-controller-manager kube-apiserver etcd; do stop_bg "$c"; done
  registry_stop "$STATE"
  unmount_ours
  say "removing network interfaces and rules"
  local link
  for link in $(ip -o link show master "$CNI_BRIDGE" 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1); do
    ip link del "$link" 2>/dev/null || true
  done
  ip link del "$CNI_BRIDGE" 2>/dev/null || true
  ip link del "$NODE_IFACE" 2>/dev/null || true
  ip route del blackhole "$SERVICE_CIDR" 2>/dev/null || true
  sweep_iptables
  rm -rf "$STATE/cni/ipam" # every pod is gone, so are their addresses
  say "stopped"
}

component_running() { # the supervisor alone (its component crashed and is restarting) does not count
  # The registry has no supervisor: its pid file names docker-registry itself, which pid_of does not take for ours.
  if [[ $1 == registry ]]; then _registry_pid "$STATE" >/dev/null; return; fi
  local pid; pid=$(pid_of "$1") || return 1
  (( $(pgrep -g "$pid" | wc -l) >= 2 ))
}

cmd_status() {
  local ok=0 c
  for c in registry "${COMPONENTS[@]}"; do
    if component_running "$c"; then printf '  %-24s running\n' "$c"; else printf '  %-24s stopped\n' "$c"; ok=1; fi
  done
  if [[ -f "$ADMIN_KUBECONFIG" ]] && node_ready; then printf '  %-24s Ready\n' "node $NODE_NAME"
  else printf '  %-24s not ready\n' "node $NODE_NAME"; ok=1; fi
  if node2_configured; then node2_status || ok=1; fi
  return $ok
}

case "${1:-}" in
  up) shift; cmd_up "$@" ;;
  down) shift; cmd_down "$@" ;;
  status) cmd_status ;;
  kubeconfig) echo "$ADMIN_KUBECONFIG" ;;
  reset) cmd_down; rm -rf "$STATE"; say "state removed" ;;
  *) sed -n '3,8p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
