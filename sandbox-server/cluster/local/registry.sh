# shellcheck shell=bash
# The local image registry. There is no container registry reachable from here, so containerd mirrors docker.io
# and registry.k8s.io to this one, and images.sh fills it with images built offline from Debian packages.
# Source this file; it only defines functions and is safe under `set -euo pipefail`.
#
#   registry_start STATE_DIR CACHE_DIR   start (or keep) Debian's docker-registry on 127.0.0.1:5000
#   registry_stop  STATE_DIR             stop the one registry_start started
#
# Its storage lives under CACHE_DIR, not STATE_DIR, so pushed images survive `cluster down` and a later `up`
# needs no rebuild.

REGISTRY_HOST=127.0.0.1
REGISTRY_PORT=5000

_registry_say() { printf '[registry] %s\n' "$*" >&2; }

_registry_need() { # command debian-package
  if ! command -v "$1" >/dev/null 2>&1; then
    _registry_say "error: '$1' not found; install it with: apt-get install $2"
    return 1
  fi
}

_registry_answers() {
  curl -fsS --max-time 2 -o /dev/null "http://$REGISTRY_HOST:$REGISTRY_PORT/v2/" 2>/dev/null
}

# A bare TCP connect, so that something on the port that is not a registry (and would fail the /v2/ probe)
# still counts as taken.
_registry_port_open() {
  (exec 3<>"/dev/tcp/$REGISTRY_HOST/$REGISTRY_PORT") 2>/dev/null
}

# Prints the pid only if the pid file names a live docker-registry: a stale file may hold a recycled pid, and
# we must never signal an unrelated process.
# A zombie still answers kill -0; when the caller that started the registry also stops it, the exited registry
# is its unreaped child, so look at the process state instead.
_registry_alive() {
  local st
  st=$(sed -n 's/^[0-9]* (.*) \([A-Z]\).*/\1/p' "/proc/$1/stat" 2>/dev/null) || return 1
  [[ -n $st && $st != Z && $st != X ]]
}

_registry_pid() {
  local pidfile=$1/pids/registry.pid pid
  [[ -r $pidfile ]] || return 1
  pid=$(<"$pidfile")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  [[ -r /proc/$pid/cmdline ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q 'docker-registry' || return 1
  printf '%s\n' "$pid"
}

registry_start() {
  if [[ $# -ne 2 ]]; then
    _registry_say "usage: registry_start STATE_DIR CACHE_DIR"
    return 2
  fi
  local state=$1 cache=$2 pid
  _registry_need docker-registry docker-registry || return 1
  _registry_need curl curl || return 1
  _registry_need setsid util-linux || return 1

  if pid=$(_registry_pid "$state"); then
    if _registry_answers; then
      return 0
    fi
    # Ours but not answering (still starting, or wedged): the wait below decides.
  else
    if _registry_port_open; then
      if _registry_answers; then
        _registry_say "error: port $REGISTRY_PORT on $REGISTRY_HOST already has a registry that this cluster did not start" \
          "(no live pid in $state/pids/registry.pid); stop it or free port $REGISTRY_PORT"
      else
        _registry_say "error: port $REGISTRY_PORT on $REGISTRY_HOST is taken by another program; free port $REGISTRY_PORT" \
          "(see: ss -ltnp 'sport = :$REGISTRY_PORT')"
      fi
      return 1
    fi
    mkdir -p "$state/logs" "$state/pids" "$cache/registry"
    local cfg=$state/registry.yml
    # No auth and plain http: it listens on loopback only, and containerd is told to use http for it.
    # Deletion is enabled so a stale tag can be removed by hand without wiping the store.
    cat >"$cfg" <<EOF
version: 0.1
log:
  level: info
  formatter: text
  fields:
    service: registry
storage:
  filesystem:
    rootdirectory: $cache/registry
  cache:
    blobdescriptor: inmemory
  delete:
    enabled: true
http:
  addr: $REGISTRY_HOST:$REGISTRY_PORT
  headers:
    X-Content-Type-Options: [nosniff]
EOF
    # setsid detaches it from the caller's process group, so a Ctrl-C in `cluster up` does not take the
    # registry down with it; the child records its own pid because setsid may fork.
    # shellcheck disable=SC2016 # $$ and $1 are meant for the inner shell
    setsid bash -c 'echo $$ >"$1"; exec docker-registry serve "$2"' _ "$state/pids/registry.pid" "$cfg" \
      </dev/null >>"$state/logs/registry.log" 2>&1 &
  fi

  local i
  for ((i = 0; i < 60; i++)); do
    if _registry_answers; then
      return 0
    fi
    # Checked after the first tick: the pid file may not be written yet when the loop begins.
    if ((i > 0)) && ! _registry_pid "$state" >/dev/null; then
      _registry_say "error: docker-registry exited during startup on $REGISTRY_HOST:$REGISTRY_PORT; last log lines:"
      tail -n 15 "$state/logs/registry.log" >&2 || true
      return 1
    fi
    sleep 0.25
  done
  _registry_say "error: registry did not answer on http://$REGISTRY_HOST:$REGISTRY_PORT/v2/ within 15 s;" \
    "see $state/logs/registry.log"
  return 1
}

registry_stop() {
  if [[ $# -ne 1 ]]; then
    _registry_say "usage: registry_stop STATE_DIR"
    return 2
  fi
  local state=$1 pid i
  if ! pid=$(_registry_pid "$state"); then
    rm -f "$state/pids/registry.pid"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  # Not our child (it was started by an earlier invocation), so `wait` cannot be used: poll instead.
  for ((i = 0; i < 40; i++)); do
    _registry_alive "$pid" || break
    sleep 0.25
  done
  if _registry_alive "$pid"; then
    _registry_say "registry (pid $pid) ignored SIGTERM for 10 s; killing it"
    kill -KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 20; i++)); do
      _registry_alive "$pid" || break
      sleep 0.1
    done
  fi
  # Reap it if it is our own child, so no zombie lingers in a long-running caller.
  wait "$pid" 2>/dev/null || true
  rm -f "$state/pids/registry.pid"
}
