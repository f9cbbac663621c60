# The local cluster's second node, on the same machine (sourced by cluster.sh): its own containerd, kubelet,
# kube-proxy and kube-router, run inside a network namespace of their own. A veth pair joins that namespace to the
# host; each node's Pod CIDR is routed to the other through it, so Pods talk across nodes as on two machines.
#
# Only the network is separate: node 2 shares the host's mount namespace (the kubelet's volume mounts must be seen by
# its containerd, and `ip netns exec` would give each process a private one), so every path of its own is set here.

N2_NAME="sidecar-lab-2"
N2_NETNS="slab-node2"
N2_HOST_IFACE="slab-n2-host" # the host's end of the veth pair
N2_IFACE="slab-n2"           # node 2's end, inside its namespace
N2_HOST_IP="10.240.1.254"
N2_IP="10.240.1.1"
N2_POD_CIDR="10.244.1.0/24"
N2_STATE="$STATE/node2"
N2_RUN="$RUN_DIR/node2"
N2_SOCK="$N2_RUN/containerd/containerd.sock"
# cgroup v1: node 2's kubepods tree lives under a root of its own, so neither kubelet sees the other's Pods.
N2_CGROUP_ROOT="/sidecar-lab-2"
N2_COMPONENTS=(containerd kubelet kube-proxy kube-router)
# The registry listens on the host's loopback only. Node 2 reaches it at the host's end of the veth, where one DNAT
# rule (with route_localnet on that interface alone) forwards port 5000 to 127.0.0.1:5000: no extra process to run.
# Only node 2's own address may use it: its Pods' traffic comes from their own addresses, and must not reach a
# registry that takes pushes (a learner could replace the busybox every other learner pulls).
N2_REGISTRY_RULE=(PREROUTING -i "$N2_HOST_IFACE" -s "$N2_IP" -d "$N2_HOST_IP" -p tcp --dport 5000
  -m comment --comment sidecar-lab-node2-registry -j DNAT --to-destination "$REGISTRY_ADDR")

n2() { nsenter --net="/run/netns/$N2_NETNS" -- "$@"; } # runs a command inside node 2's network namespace

n2_network() {
  [[ -e /run/netns/$N2_NETNS ]] || ip netns add "$N2_NETNS"
  if ! ip link show "$N2_HOST_IFACE" >/dev/null 2>&1; then
    n2 ip link del "$N2_IFACE" 2>/dev/null || true
    ip link add "$N2_HOST_IFACE" type veth peer name "$N2_IFACE" netns "$N2_NETNS"
  fi
  ip addr replace "$N2_HOST_IP/24" dev "$N2_HOST_IFACE"
  ip link set "$N2_HOST_IFACE" up
  sysctl -qw "net.ipv4.conf.$N2_HOST_IFACE.route_localnet=1"
  ip route replace "$N2_POD_CIDR" via "$N2_IP" dev "$N2_HOST_IFACE"
  iptables -t nat -C "${N2_REGISTRY_RULE[@]}" 2>/dev/null || iptables -t nat -I "${N2_REGISTRY_RULE[@]}"

  n2 ip link set lo up
  n2 ip addr replace "$N2_IP/24" dev "$N2_IFACE"
  n2 ip link set "$N2_IFACE" up
  # Everything off the node (node 1, its Pods, the API server, CoreDNS) goes through the host, whose FORWARD rule
  # keeps Pod traffic on this machine; an unprogrammed Service address goes nowhere, as on node 1.
  n2 ip route replace default via "$N2_HOST_IP"
  n2 ip route replace blackhole "$SERVICE_CIDR"
  # Both are per network namespace, and a new one starts with forwarding off.
  n2 sysctl -qw net.ipv4.ip_forward=1
  n2 sysctl -qw net.bridge.bridge-nf-call-iptables=1
}

n2_cgroups() { # the kubelet refuses a cgroupRoot that does not exist in every hierarchy
  local h
  for h in /sys/fs/cgroup/*/; do
    [[ -e $h/cgroup.procs && ! -e $h/cgroup.controllers ]] || continue # v1 hierarchies only
    mkdir -p "$h${N2_CGROUP_ROOT#/}"
    if [[ -e $h/cpuset.cpus ]]; then # a new v1 cpuset has no CPUs or memory nodes until given some
      local d="$h${N2_CGROUP_ROOT#/}"
      [[ -n "$(<"$d/cpuset.cpus")" ]] || cat "$h/cpuset.cpus" >"$d/cpuset.cpus"
      [[ -n "$(<"$d/cpuset.mems")" ]] || cat "$h/cpuset.mems" >"$d/cpuset.mems"
    fi
  done
}

n2_configs() {
  _cert kubelet-2 "/O=system:nodes/CN=system:node:$N2_NAME"
  _kubeconfig kubelet-2 kubelet-2
  mkdir -p "$N2_STATE/containerd/certs.d" "$N2_STATE/cni/net.d" "$N2_STATE/kubelet" "$N2_RUN/containerd"
  # Node 1's files, with node 2's paths, sockets and addresses. NRI is off: its socket path is fixed and node 1's
  # containerd holds it. Pod network namespaces go under node 2's state dir, so `down` finds exactly its own.
  sed -e "s|$STATE/containerd/root|$N2_STATE/containerd/root|; s|$RUN_DIR/containerd/state|$N2_RUN/containerd/state|" \
    -e "s|$CONTAINERD_SOCK|$N2_SOCK|; s|$RUN_DIR/runc|$N2_RUN/runc|; s|$STATE/cni/net.d|$N2_STATE/cni/net.d|" \
    -e "s|$STATE/containerd/certs.d|$N2_STATE/containerd/certs.d|" \
    -e "s|^\[plugins.\"io.containerd.grpc.v1.cri\"\]$|&\n  netns_mounts_under_state_dir = true|" \
    "$STATE/containerd/config.toml" >"$N2_STATE/containerd.toml.new"
  printf '[plugins."io.containerd.nri.v1.nri"]\n  disable = true\n' >>"$N2_STATE/containerd.toml.new"
  write_if_changed "$N2_STATE/containerd/config.toml" node2-containerd <"$N2_STATE/containerd.toml.new"
  rm -f "$N2_STATE/containerd.toml.new"
  write_registry_mirrors "$N2_STATE/containerd/certs.d" "$N2_HOST_IP:5000"
  sed -e "s|$NODE_POD_CIDR|$N2_POD_CIDR|; s|$STATE/cni/ipam|$N2_STATE/cni/ipam|" \
    "$STATE/cni/net.d/10-sidecar-lab.conflist" | write_if_changed "$N2_STATE/cni/net.d/10-sidecar-lab.conflist"
  # The kubelet's Pod logs default to /var/log/pods, where node 1's kubelet would delete node 2's as unknown Pods.
  {
    sed -e "s|^address: .*|address: $N2_IP|; s|$CONTAINERD_SOCK|$N2_SOCK|" \
      -e "s|$STATE/kubelet/volume-plugins|$N2_STATE/kubelet/volume-plugins|" "$STATE/kubelet/config.yaml"
    echo "cgroupRoot: $N2_CGROUP_ROOT"
    echo "podLogsDir: $N2_STATE/pod-logs"
    if [[ -n "${SIDECAR_LAB_NODE2_TAINT:-}" ]]; then
      echo "registerWithTaints: [{key: $SIDECAR_LAB_NODE2_TAINT, effect: NoSchedule}]"
    fi
  } | write_if_changed "$N2_STATE/kubelet/config.yaml" node2-kubelet
  sed -e "s|^hostnameOverride: .*|hostnameOverride: $N2_NAME|; s|^bindAddress: .*|bindAddress: $N2_IP|" \
    "$STATE/kube-proxy.yaml" | write_if_changed "$N2_STATE/kube-proxy.yaml" node2-kube-proxy
}

n2_ready() {
  [[ "$(kubectl_admin get node "$N2_NAME" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" == True ]]
}

node2_up() {
  local t0=$SECONDS c
  say "node 2 ($N2_NAME): network namespace $N2_NETNS, $N2_IP, Pods $N2_POD_CIDR"
  n2_network
  n2_cgroups
  n2_configs
  for c in $(printf '%s\n' "${STALE_COMPONENTS[@]}" | grep '^node2-' | sort -u); do
    pid_of "$c" >/dev/null || continue
    say "restarting $c: its config changed"
    stop_bg "$c"
  done
  start_bg node2-containerd nsenter --net="/run/netns/$N2_NETNS" -- env "PATH=$BIN:$PATH" "$BIN/containerd" \
    --config "$N2_STATE/containerd/config.toml"
  wait_for "node 2's containerd" 30 test -S "$N2_SOCK"
  start_bg node2-kubelet nsenter --net="/run/netns/$N2_NETNS" -- "$BIN/kubelet" \
    --config="$N2_STATE/kubelet/config.yaml" --kubeconfig="$KCFG/kubelet-2.kubeconfig" \
    --hostname-override="$N2_NAME" --node-ip="$N2_IP" --root-dir="$N2_STATE/kubelet/root" \
    --cert-dir="$N2_STATE/kubelet/pki"
  start_bg node2-kube-proxy nsenter --net="/run/netns/$N2_NETNS" -- "$BIN/kube-proxy" --config="$N2_STATE/kube-proxy.yaml"
  wait_for "node 2" 120 n2_ready
  start_bg node2-kube-router nsenter --net="/run/netns/$N2_NETNS" -- "$BIN/kube-router" \
    --kubeconfig="$KCFG/kube-router.kubeconfig" --hostname-override="$N2_NAME" --run-firewall=true \
    --run-router=false --run-service-proxy=false --enable-ibgp=false --enable-overlay=false \
    --enable-pod-egress=false --health-port=20244 --metrics-port=0
  wait_for "node 2's kube-router" 30 n2 curl -fsS http://127.0.0.1:20244/healthz
  say "node 2 ready in $((SECONDS - t0))s"
}

# node2_down [forget]: stops node 2 and removes its processes, mounts, namespace, interfaces, route and rule. With
# `forget` (the control plane stays up) its Node object is deleted too, so its Pods are not left waiting for it.
node2_down() {
  local c m
  if [[ ${1:-} == forget && -f "$ADMIN_KUBECONFIG" ]]; then
    kubectl_admin delete node "$N2_NAME" --ignore-not-found --wait=false --request-timeout=10s >/dev/null 2>&1 || true
  fi
  for c in kube-router kube-proxy kubelet; do stop_bg "node2-$c"; done
  kill_pod_processes "$N2_CGROUP_ROOT"
  stop_bg node2-containerd
  pkill -KILL -f "containerd-shim-runc-v2 .*-address $N2_SOCK" 2>/dev/null || true
  for m in $(findmnt -rn -o TARGET | grep -E "^($N2_STATE|$N2_RUN)/" | sort -r); do umount -l "$m" 2>/dev/null || true; done
  ip link del "$N2_HOST_IFACE" 2>/dev/null || true # both ends, and the route through it
  ip netns del "$N2_NETNS" 2>/dev/null || true     # its CNI bridge, iptables rules and ipsets go with it
  while iptables -t nat -D "${N2_REGISTRY_RULE[@]}" 2>/dev/null; do :; done
  rm -rf "$N2_STATE/cni/ipam"
}

node2_configured() { [[ -e /run/netns/$N2_NETNS ]] || ls "$PIDS"/node2-*.pid >/dev/null 2>&1; }

node2_status() {
  local ok=0 c
  for c in "${N2_COMPONENTS[@]}"; do
    if component_running "node2-$c"; then printf '  %-24s running\n' "node2 $c"; else printf '  %-24s stopped\n' "node2 $c"; ok=1; fi
  done
  if [[ -f "$ADMIN_KUBECONFIG" ]] && n2_ready; then printf '  %-24s Ready\n' "node $N2_NAME"
  else printf '  %-24s not ready\n' "node $N2_NAME"; ok=1; fi
  return $ok
}
