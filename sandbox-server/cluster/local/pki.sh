# Certificates and kubeconfigs for the local cluster, made with openssl (sourced by cluster.sh).
# One CA signs everything; the kubelet serves with a self-signed certificate of its own.

_cert() { # _cert NAME SUBJECT [SANS] : key + CA-signed cert, client and server usage
  local name=$1 subj=$2 sans=${3:-}
  [[ -f "$PKI/$name.crt" ]] && return 0
  local ext; ext=$(mktemp)
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=serverAuth,clientAuth"
    [[ -n "$sans" ]] && echo "subjectAltName=$sans"
  } >"$ext"
  openssl genrsa -out "$PKI/$name.key" 2048 2>/dev/null
  openssl req -new -key "$PKI/$name.key" -subj "$subj" -out "$PKI/$name.csr" 2>/dev/null
  openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial \
    -days 3650 -extfile "$ext" -out "$PKI/$name.crt" 2>/dev/null
  rm -f "$ext" "$PKI/$name.csr"
}

_kubeconfig() { # _kubeconfig NAME CERT_NAME
  local file="$KCFG/$1.kubeconfig" cert=$2
  [[ -f "$file" ]] && return 0
  cat >"$file" <<KC
apiVersion: v1
kind: Config
clusters:
- name: sidecar-lab
  cluster:
    server: https://$NODE_IP:6443
    certificate-authority: $PKI/ca.crt
users:
- name: $1
  user:
    client-certificate: $PKI/$cert.crt
    client-key: $PKI/$cert.key
contexts:
- name: sidecar-lab
  context: {cluster: sidecar-lab, user: $1}
current-context: sidecar-lab
KC
  chmod 600 "$file"
}

make_pki() {
  mkdir -p "$PKI" "$KCFG"
  chmod 700 "$PKI"
  if [[ ! -f "$PKI/ca.crt" ]]; then
    openssl genrsa -out "$PKI/ca.key" 2048 2>/dev/null
    openssl req -x509 -new -key "$PKI/ca.key" -subj "/CN=sidecar-lab-ca" -days 3650 -out "$PKI/ca.crt" 2>/dev/null
  fi
  local api_sans="DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
  api_sans+=",DNS:localhost,IP:127.0.0.1,IP:$NODE_IP,IP:$KUBERNETES_SVC_IP"
  _cert apiserver "/CN=kube-apiserver" "$api_sans"
  _cert apiserver-kubelet-client "/CN=kube-apiserver"
  _cert admin "/O=system:masters/CN=admin"
  _cert controller-manager "/CN=system:kube-controller-manager"
  _cert scheduler "/CN=system:kube-scheduler"
  _cert kubelet "/O=system:nodes/CN=system:node:$NODE_NAME"
  _cert kube-proxy "/CN=system:kube-proxy"
  _cert coredns "/CN=sidecar-lab:coredns"
  _cert kube-router "/CN=sidecar-lab:kube-router"
  if [[ ! -f "$PKI/sa.key" ]]; then
    openssl genrsa -out "$PKI/sa.key" 2048 2>/dev/null
    openssl rsa -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null
  fi
  _kubeconfig admin admin
  _kubeconfig controller-manager controller-manager
  _kubeconfig scheduler scheduler
  _kubeconfig kubelet kubelet
  _kubeconfig kube-proxy kube-proxy
  _kubeconfig coredns coredns
  _kubeconfig kube-router kube-router
}
