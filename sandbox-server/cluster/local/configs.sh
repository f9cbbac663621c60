# Config files of the local cluster's components (sourced by cluster.sh). Written on every `up`, so edits here apply.

write_configs() {
  # Only when the host withholds CAP_SYS_RESOURCE from root does runc need the wrapper (see runc-wrapper.sh).
  RUNC=/usr/sbin/runc
  if ! has_cap_sys_resource; then
    mkdir -p "$STATE/bin" && install -m 0755 "$HERE/runc-wrapper.sh" "$STATE/bin/runc-wrapper"
    RUNC="$STATE/bin/runc-wrapper"
  fi
  mkdir -p "$STATE/containerd/certs.d" "$STATE/cni/net.d" "$STATE/kubelet" "$STATE/coredns" "$RUN_DIR/containerd"
  write_if_changed "$STATE/containerd/config.toml" containerd <<TOML
version = 2
root = "$STATE/containerd/root"
state = "$RUN_DIR/containerd/state"
[grpc]
  address = "$CONTAINERD_SOCK"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "registry.k8s.io/pause:3.10"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        BinaryName = "$RUNC"
        Root = "$RUN_DIR/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$STATE/cni/net.d"
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "$STATE/containerd/certs.d"
TOML
  write_registry_mirrors "$STATE/containerd/certs.d" "$REGISTRY_ADDR"

  write_if_changed "$STATE/cni/net.d/10-sidecar-lab.conflist" <<JSON
{
  "cniVersion": "1.0.0",
  "name": "sidecar-lab",
  "plugins": [
    {
      "type": "bridge", "bridge": "$CNI_BRIDGE", "isGateway": true, "ipMasq": false, "hairpinMode": true,
      "ipam": {
        "type": "host-local", "dataDir": "$STATE/cni/ipam",
        "ranges": [[{"subnet": "$NODE_POD_CIDR"}]], "routes": [{"dst": "0.0.0.0/0"}]
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
JSON

  write_if_changed "$STATE/kubelet/config.yaml" kubelet <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $NODE_IP
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
cgroupDriver: cgroupfs
# These hosts run cgroup v1; from 1.35 the kubelet refuses it unless told otherwise.
failCgroupV1: false
containerRuntimeEndpoint: unix://$CONTAINERD_SOCK
failSwapOn: false
cgroupsPerQOS: true
enforceNodeAllocatable: [pods]
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $PKI/ca.crt}
authorization: {mode: Webhook}
clusterDNS: [$DNS_SVC_IP]
clusterDomain: cluster.local
maxPods: 240
# A fork bomb in one Pod stops at this many processes instead of exhausting the node.
podPidsLimit: 1024
# A container that logs as fast as it can keeps two files (the live one and one rotated, never compressed: gzip of a
# big file would stall rotation) of 10Mi plus what it wrote in the 3 s between checks (the kubelet's minimum).
# kubectl logs reads only the live file. Pods' ephemeral-storage limits (LimitRange) bound the rest of their disk.
containerLogMaxSize: 10Mi
containerLogMaxFiles: 2
containerLogMonitorInterval: 3s
containerLogMaxWorkers: 2
# Exec streams whose client vanished (a killed server) are closed after this long idle, instead of 4 hours.
streamingConnectionIdleTimeout: 5m
# A room applying the same Pod at once (README, Clusters: "A room that applies at once"). The kubelet's pull limit
# (default 5 a second, burst 10) fails a pull over the limit at once ("pull QPS exceeded", then ImagePullBackOff for
# 10 s and more) instead of queueing it; every Pod of an untagged busybox (:latest, so pull policy Always) asks for one.
# The registry is on loopback and unthrottled, so the limit guards nothing here: 0 turns it off. What bounds the load
# instead is maxParallelImagePulls: pulls beyond it wait their turn in the kubelet, and none fails.
serializeImagePulls: false
registryPullQPS: 0
maxParallelImagePulls: 10
evictionHard: {memory.available: 100Mi, nodefs.available: 2%, imagefs.available: 2%, nodefs.inodesFree: 2%}
# containerd 1.6.20 does not pin the pause image; keep image GC from removing it.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
volumePluginDir: $STATE/kubelet/volume-plugins
YAML

  write_if_changed "$STATE/kube-proxy.yaml" kube-proxy <<YAML
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: $KCFG/kube-proxy.kubeconfig}
hostnameOverride: $NODE_NAME
mode: iptables
clusterCIDR: $POD_CIDR
bindAddress: $NODE_IP
nodePortAddresses: [primary]
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
# Leave the host's conntrack sysctls alone.
conntrack: {maxPerCore: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
YAML

  write_if_changed "$STATE/coredns/Corefile" coredns <<COREFILE
.:53 {
    bind $NODE_IP
    errors
    health 127.0.0.1:18080
    ready 127.0.0.1:18181
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        kubeconfig $KCFG/coredns.kubeconfig sidecar-lab
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
    }
    forward . /etc/resolv.conf
    cache 30
    loop
}
COREFILE
}

# write_registry_mirrors CERTS_DIR ADDR: no registry on the internet is reachable, so containerd resolves docker.io
# and registry.k8s.io through the local registry at ADDR.
write_registry_mirrors() {
  local upstream
  for upstream in docker.io registry.k8s.io; do
    mkdir -p "$1/$upstream"
    write_if_changed "$1/$upstream/hosts.toml" <<TOML
[host."http://$2"]
  capabilities = ["pull", "resolve"]
TOML
  done
}

has_cap_sys_resource() { # CAP_SYS_RESOURCE is capability bit 24
  local eff; eff=$(awk '/^CapEff/ {print $2}' /proc/self/status)
  (( (16#$eff >> 24) & 1 ))
}
