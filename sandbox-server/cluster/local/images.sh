#!/usr/bin/env bash
# Builds the images the local cluster pulls and pushes them to the local registry (127.0.0.1:5000), which
# containerd uses as its mirror for docker.io and registry.k8s.io. Nothing comes from an image registry: every
# image is made from Debian packages or from our own code.
#
#   images.sh KUBECTL_PATH K8S_VERSION
#   images.sh --server APP_DIR        only the server image, from an application staged by deploy/build-image.sh
#   images.sh --postgres ENTRYPOINT   only the PostgreSQL image deploy:local runs (ENTRYPOINT: deploy/postgres/start.sh)
#
#   127.0.0.1:5000/library/busybox:latest          image: busybox
#   127.0.0.1:5000/library/nginx:1.26              image: nginx:1.26 (Debian's nginx, laid out like the official image)
#   127.0.0.1:5000/pause:3.10                      registry.k8s.io/pause:3.10 (pause/pause.c)
#   127.0.0.1:5000/sidecar-lab/toolbox:K8S_VERSION and :latest
#   127.0.0.1:5000/sidecar-lab/server:CONTENT_HASH and :latest   (--server; the tag is printed on stdout)
#   127.0.0.1:5000/sidecar-lab/postgres:RECIPE_HASH and :latest  (--postgres; Debian's PostgreSQL; tag on stdout)
#
# Each image is rebuilt only when its recipe (this file plus its inputs) changed or the registry lost the tag,
# so a warm run only asks the registry a few questions. Debootstrapped root filesystems and downloaded .debs
# are cached under $SIDECAR_LAB_CACHE/images; logs of the slow steps go to $SIDECAR_LAB_CACHE/images/logs.
set -euo pipefail
# Without this, a failing command inside $(...) would not stop the substitution it runs in.
shopt -s inherit_errexit

say() { printf '[images] %s\n' "$*" >&2; }
die() {
  say "error: $*"
  exit 1
}

if [[ $# -ne 2 ]]; then
  printf 'usage: %s KUBECTL_PATH K8S_VERSION\n       %s --server APP_DIR\n       %s --postgres ENTRYPOINT\n' \
    "${0##*/}" "${0##*/}" "${0##*/}" >&2
  exit 2
fi
SERVER_APP=
POSTGRES_ENTRYPOINT=
if [[ $1 == --postgres ]]; then
  POSTGRES_ENTRYPOINT=$2
  [[ -f $POSTGRES_ENTRYPOINT ]] || {
    printf '[images] error: no entrypoint script at %s\n' "$POSTGRES_ENTRYPOINT" >&2
    exit 2
  }
elif [[ $1 == --server ]]; then
  SERVER_APP=$2
  [[ -f $SERVER_APP/package.json && -x $SERVER_APP/node ]] || {
    printf '[images] error: %s is not a staged server (no package.json or node)\n' "$SERVER_APP" >&2
    exit 2
  }
else
  KUBECTL=$1
  K8S_VERSION=$2
fi

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SELF="$HERE/$(basename "${BASH_SOURCE[0]}")"
CACHE="${SIDECAR_LAB_CACHE:-$HOME/.cache/sidecar-lab}"
WORK="$CACHE/images"
LOGS="$WORK/logs"
REG=127.0.0.1:5000
SUITE=bookworm
MIRROR="${SIDECAR_LAB_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
PATH_ENV=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

need() { # command debian-package
  command -v "$1" >/dev/null 2>&1 || die "'$1' not found; install it with: apt-get install $2"
}

[[ $EUID -eq 0 ]] || die "run as root: debootstrap, chroot and buildah's mounts need it"
need buildah buildah
need debootstrap debootstrap
need curl curl
need gcc gcc
need flock util-linux
need chroot coreutils
[[ -n $SERVER_APP || -n $POSTGRES_ENTRYPOINT || (-x $KUBECTL && -f $KUBECTL) ]] || die "no executable kubectl at '$KUBECTL'"
[[ "$(gcc -print-file-name=libc.a)" == /* ]] ||
  die "gcc cannot link statically (no libc.a); install it with: apt-get install libc6-dev"
[[ -x /bin/busybox ]] || die "/bin/busybox not found; install it with: apt-get install busybox-static"
# The busybox image has no libc, so only the static build works in it; `busybox` (dynamic) conflicts with it.
if ldd /bin/busybox >/dev/null 2>&1; then
  die "/bin/busybox is dynamically linked; install the static one with: apt-get install busybox-static"
fi
curl -fsS --max-time 3 -o /dev/null "http://$REG/v2/" ||
  die "no registry answers on http://$REG/v2/; start it first (registry.sh: registry_start)"

mkdir -p "$WORK/rootfs" "$WORK/debs" "$LOGS"
# Two concurrent runs would fight over the same working containers and rootfs directories.
exec 9>"$WORK/.lock"
if ! flock -n 9; then
  say "waiting for another images.sh run to finish"
  flock 9
fi

# A private buildah store: nothing here touches the host's images, and it can be wiped without harm. Images
# are removed from it after the push, so it stays small.
if [[ -n ${STORAGE_DRIVER:-} ]]; then
  driver=$STORAGE_DRIVER
elif [[ "$(stat -f -c %T "$WORK")" == overlayfs ]]; then
  driver=vfs # overlay cannot be stacked on an overlay root filesystem
else
  driver=overlay
fi
BUILDAH=(buildah --root "$WORK/buildah/storage" --runroot "$WORK/buildah/run" --storage-driver "$driver")

CONTAINERS=()
cleanup() {
  local c
  for c in "${CONTAINERS[@]}"; do
    "${BUILDAH[@]}" rm "$c" >/dev/null 2>&1 || true
  done
}
trap cleanup EXIT

hash_of() { sha256sum "$@" | cut -c1-64; }

# The recipe of an image: this script plus whatever else its content depends on.
recipe() { { hash_of "$SELF"; printf '%s\n' "$@"; } | sha256sum | cut -c1-64; }

remote_digest() { # repo tag
  curl -fsS --max-time 5 -I \
    -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
    -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
    "http://$REG/v2/$1/manifests/$2" 2>/dev/null |
    tr -d '\r' | sed -n 's/^[Dd]ocker-[Cc]ontent-[Dd]igest: *//p' || true
}

# Up to date when the stamp has this recipe and every tag in the registry still points at what we pushed
# (the registry store can be wiped independently of the stamps).
up_to_date() { # name recipe repo tag...
  local stamp="$WORK/$1.stamp" want=$2 repo=$3 have digest tag
  shift 3
  [[ -r $stamp ]] || return 1
  read -r have digest <"$stamp" || return 1
  [[ $have == "$want" && -n $digest ]] || return 1
  for tag in "$@"; do
    [[ "$(remote_digest "$repo" "$tag")" == "$digest" ]] || return 1
  done
}

# Sets CTR rather than printing it: CONTAINERS must be updated in this shell, not in a $(...) subshell, for the
# exit trap to see it.
new_container() { # name
  CTR="sidecar-lab-$1"
  # A run killed half way leaves its working container behind; start from a clean one.
  "${BUILDAH[@]}" rm "$CTR" >/dev/null 2>&1 || true
  "${BUILDAH[@]}" from --quiet --name "$CTR" scratch >/dev/null
  CONTAINERS+=("$CTR")
}

publish() { # container name recipe repo tag...
  local ctr=$1 name=$2 rcp=$3 repo=$4 img="localhost/sidecar-lab-build/$2:build" tag digest
  shift 4
  local digestfile="$WORK/buildah/$name.digest"
  "${BUILDAH[@]}" config --label "sidecar-lab.recipe=$rcp" "$ctr"
  "${BUILDAH[@]}" commit --quiet --format docker --rm "$ctr" "$img" >/dev/null
  for tag in "$@"; do
    "${BUILDAH[@]}" push --quiet --tls-verify=false --format v2s2 --digestfile "$digestfile" \
      "$img" "docker://$REG/$repo:$tag"
  done
  digest=$(<"$digestfile")
  rm -f "$digestfile"
  "${BUILDAH[@]}" rmi "$img" >/dev/null
  printf '%s %s\n' "$rcp" "$digest" >"$WORK/$name.stamp"
}

# Every edit below goes through the mountpoint; an empty or "/" one would turn them into edits of the host.
mount_container() { # container -> prints its mountpoint
  local m
  m=$("${BUILDAH[@]}" mount "$1")
  [[ -n $m && $m != / && -d $m ]] || die "buildah mount of $1 returned '$m'"
  printf '%s\n' "$m"
}

# Unmount anything left mounted below a directory (an interrupted debootstrap leaves /proc and /sys mounted in
# its target), so removing the directory cannot reach into the host.
unmount_under() {
  local dir mnt
  dir=$(realpath -m "$1")
  awk -v d="$dir/" 'index($2 "/", d) == 1 { print $2 }' /proc/self/mounts | sort -r |
    while read -r mnt; do umount -l "$mnt" || true; done
}

remove_tree() {
  [[ -e $1 ]] || return 0
  unmount_under "$1"
  rm -rf --one-file-system "$1"
}

# A debootstrapped minbase root filesystem with extra packages, cached by its package list so a rebuild after
# an edit to this script reuses it. Prints its directory.
base_rootfs() { # name comma-separated-packages
  local name=$1 pkgs=$2 key dir old
  key=$(printf '%s\n' "$SUITE" "$MIRROR" minbase "$pkgs" | sha256sum | cut -c1-16)
  dir="$WORK/rootfs/$name-$key"
  if [[ ! -d $dir ]]; then
    for old in "$WORK/rootfs/$name"-*; do remove_tree "$old"; done
    say "debootstrap $SUITE minbase + $pkgs (cold: a few minutes; log: $LOGS/debootstrap-$name.log)"
    if ! debootstrap --variant=minbase --include="$pkgs" --cache-dir="$WORK/debs" \
      "$SUITE" "$dir.partial" "$MIRROR" >"$LOGS/debootstrap-$name.log" 2>&1; then
      tail -n 20 "$LOGS/debootstrap-$name.log" >&2
      unmount_under "$dir.partial"
      die "debootstrap for $name failed; see $LOGS/debootstrap-$name.log"
    fi
    # The .debs are kept once, in $WORK/debs; debootstrap also leaves a copy in the tree.
    rm -f "$dir.partial"/var/cache/apt/archives/*.deb
    # The rename marks it complete: a half-built tree never has the final name.
    mv "$dir.partial" "$dir"
  fi
  printf '%s\n' "$dir"
}

# Drops what a container never reads. Copyright files stay, as the licences of what we redistribute.
slim_rootfs() { # mountpoint
  local m=${1:?}
  [[ $m != / ]] || die "refusing to slim /"
  rm -rf "$m"/var/lib/apt/lists/* "$m"/var/cache/apt/* "$m"/var/cache/debconf/*-old "$m"/var/lib/dpkg/*-old \
    "$m"/usr/share/man/* "$m"/usr/share/info/* "$m"/usr/share/lintian "$m"/usr/share/linda \
    "$m"/var/log/*.log "$m"/var/log/apt/* "$m"/var/cache/ldconfig/aux-cache
  if [[ -d $m/usr/share/doc ]]; then
    find "$m/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
    find "$m/usr/share/doc" -mindepth 1 -type d -empty -delete
  fi
  if [[ -d $m/usr/share/locale ]]; then
    find "$m/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +
  fi
  # The runtime mounts its own /dev, /proc and /sys over these, so debootstrap's device nodes are dead weight.
  rm -rf "${m:?}"/dev/* "$m"/proc/* "$m"/sys/* "$m"/run/* "$m"/tmp/* "$m"/var/tmp/*
  chmod 1777 "$m/tmp" "$m/var/tmp"
}

# ---------------------------------------------------------------------------------------------------------------

build_busybox() {
  local repo=library/busybox tag=latest rcp ctr m
  rcp=$(recipe busybox "$(hash_of /bin/busybox)")
  if up_to_date busybox "$rcp" "$repo" "$tag"; then
    say "busybox:$tag up to date"
    return
  fi
  say "building busybox:$tag ..."
  new_container busybox
  ctr=$CTR
  m=$(mount_container "$ctr")
  mkdir -p "$m"/{bin,dev,etc,home,proc,root,sys,tmp,usr/sbin,var/spool/mail,var/www}
  chmod 1777 "$m/tmp"
  chmod 700 "$m/root"
  install -m 0755 /bin/busybox "$m/bin/busybox"
  # In the chroot /proc is absent, so busybox falls back to argv[0] and the links point at /bin/busybox.
  chroot "$m" /bin/busybox --install -s /bin
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n' >"$m/etc/passwd"
  printf 'root:x:0:\nnobody:x:65534:\n' >"$m/etc/group"
  # Static glibc resolves names only through its built-in files/dns backends; say so explicitly, so `wget svc`
  # and `nc svc 80` go to the cluster DNS.
  printf 'hosts: files dns\nnetworks: files\n' >"$m/etc/nsswitch.conf"
  "${BUILDAH[@]}" umount "$ctr" >/dev/null
  "${BUILDAH[@]}" config --env "PATH=$PATH_ENV" --cmd '["sh"]' "$ctr"
  publish "$ctr" busybox "$rcp" "$repo" "$tag"
}

build_pause() {
  local repo=pause tag=3.10 rcp ctr m src="$HERE/pause/pause.c" out="$WORK/buildah/pause"
  [[ -r $src ]] || die "missing $src"
  rcp=$(recipe pause "$(hash_of "$src")" "$(gcc -dumpfullversion)")
  if up_to_date pause "$rcp" "$repo" "$tag"; then
    say "pause:$tag up to date"
    return
  fi
  say "building pause:$tag ..."
  mkdir -p "$(dirname "$out")"
  gcc -static -Os -s -Wall -Wextra -Werror -o "$out" "$src"
  new_container pause
  ctr=$CTR
  "${BUILDAH[@]}" copy --quiet --chmod 0755 "$ctr" "$out" /pause >/dev/null
  rm -f "$out"
  "${BUILDAH[@]}" config --entrypoint '["/pause"]' --stop-signal SIGTERM "$ctr"
  publish "$ctr" pause "$rcp" "$repo" "$tag"
}

build_nginx() {
  local repo=library/nginx tag=1.26 rcp ctr m base
  rcp=$(recipe nginx "$SUITE" "$MIRROR")
  if up_to_date nginx "$rcp" "$repo" "$tag"; then
    say "nginx:$tag up to date"
    return
  fi
  base=$(base_rootfs nginx nginx)
  say "building nginx:$tag ..."
  new_container nginx
  ctr=$CTR
  m=$(mount_container "$ctr")
  cp -a "$base/." "$m/"

  # uid/gid 101 as in the official image, so securityContext examples written for it keep working.
  chroot "$m" groupadd --system --gid 101 nginx
  chroot "$m" useradd --system --uid 101 --gid nginx --no-create-home --home-dir /nonexistent \
    --shell /usr/sbin/nologin --comment "nginx user" nginx

  rm -rf "$m"/etc/nginx/sites-available "$m"/etc/nginx/sites-enabled "$m"/etc/nginx/modules-enabled \
    "$m"/etc/nginx/modules-available "$m"/var/www
  mkdir -p "$m"/etc/nginx/conf.d "$m"/usr/share/nginx/html "$m"/var/cache/nginx "$m"/var/log/nginx
  # Temp files go to /var/cache/nginx as in the official image (Debian uses /var/lib/nginx), so the usual
  # read-only-root recipe — emptyDirs on /var/cache/nginx and /var/run — applies unchanged.
  cat >"$m/etc/nginx/nginx.conf" <<'EOF'
user  nginx;
worker_processes  auto;

error_log  /var/log/nginx/error.log notice;
pid        /var/run/nginx.pid;

events {
    worker_connections  1024;
}

http {
    include       /etc/nginx/mime.types;
    default_type  application/octet-stream;

    log_format  main  '$remote_addr - $remote_user [$time_local] "$request" '
                      '$status $body_bytes_sent "$http_referer" '
                      '"$http_user_agent" "$http_x_forwarded_for"';

    access_log  /var/log/nginx/access.log  main;

    client_body_temp_path  /var/cache/nginx/client_temp;
    proxy_temp_path        /var/cache/nginx/proxy_temp;
    fastcgi_temp_path      /var/cache/nginx/fastcgi_temp;
    uwsgi_temp_path        /var/cache/nginx/uwsgi_temp;
    scgi_temp_path         /var/cache/nginx/scgi_temp;

    sendfile           on;
    keepalive_timeout  65;
    server_tokens      off;

    include /etc/nginx/conf.d/*.conf;
}
EOF
  # IPv4 only: an IPv6 listen fails to start in a Pod network without IPv6.
  cat >"$m/etc/nginx/conf.d/default.conf" <<'EOF'
server {
    listen       80;
    server_name  localhost;

    location / {
        root   /usr/share/nginx/html;
        index  index.html index.htm;
    }

    error_page   500 502 503 504  /50x.html;
    location = /50x.html {
        root   /usr/share/nginx/html;
    }
}
EOF
  cat >"$m/usr/share/nginx/html/index.html" <<'EOF'
<!DOCTYPE html>
<html>
<head>
<title>Welcome to nginx!</title>
<style>
html { color-scheme: light dark; }
body { width: 35em; margin: 0 auto; font-family: Tahoma, Verdana, Arial, sans-serif; }
</style>
</head>
<body>
<h1>Welcome to nginx!</h1>
<p>If you see this page, the nginx web server is running.</p>
<p>This is the Sidecar Lab build of Debian's nginx.</p>
</body>
</html>
EOF
  cat >"$m/usr/share/nginx/html/50x.html" <<'EOF'
<!DOCTYPE html>
<html>
<head><title>Error</title></head>
<body>
<h1>An error occurred.</h1>
<p>Sorry, the page you are looking for is currently unavailable.</p>
</body>
</html>
EOF
  # Symlinks, not files: `kubectl logs` shows the logs, yet a Pod that mounts a volume on /var/log/nginx hides
  # them and nginx (as root) creates real files there for a sidecar to read.
  rm -rf "$m"/var/log/nginx/*
  ln -s /dev/stdout "$m/var/log/nginx/access.log"
  ln -s /dev/stderr "$m/var/log/nginx/error.log"
  slim_rootfs "$m"
  "${BUILDAH[@]}" umount "$ctr" >/dev/null
  "${BUILDAH[@]}" config --env "PATH=$PATH_ENV" --port 80 --stop-signal SIGQUIT \
    --cmd '["nginx","-g","daemon off;"]' "$ctr"
  publish "$ctr" nginx "$rcp" "$repo" "$tag"
}

build_toolbox() {
  local repo=sidecar-lab/toolbox rcp ctr m base kubectl_hash
  kubectl_hash=$(hash_of "$KUBECTL")
  rcp=$(recipe toolbox "$SUITE" "$MIRROR" "$K8S_VERSION" "$kubectl_hash")
  if up_to_date toolbox "$rcp" "$repo" "$K8S_VERSION" latest; then
    say "toolbox:$K8S_VERSION up to date"
    return
  fi
  base=$(base_rootfs toolbox bash-completion,vim-tiny,nano,less,curl,ca-certificates,tmux,procps)
  say "building toolbox:$K8S_VERSION ..."
  new_container toolbox
  ctr=$CTR
  m=$(mount_container "$ctr")
  cp -a "$base/." "$m/"

  chroot "$m" groupadd --gid 1000 learner
  chroot "$m" useradd --uid 1000 --gid 1000 --home-dir /home/learner --no-create-home --shell /bin/bash learner
  # No /etc/skel copy: its .bashrc would override the prompt set below, and all shell setup lives in /etc so it
  # still applies when a volume is mounted on the home directory.
  install -d -m 0755 -o 1000 -g 1000 "$m/home/learner"

  install -m 0755 "$KUBECTL" "$m/usr/local/bin/kubectl"
  # Generated once here rather than at every shell start: running a 60 MB kubectl per shell is slow and
  # briefly costs memory in a Pod with a tight limit.
  "$KUBECTL" completion bash >"$m/usr/share/bash-completion/completions/kubectl"
  [[ -e $m/usr/bin/vim ]] || ln -s vim.tiny "$m/usr/bin/vim"

  cat >"$m/etc/bash.bashrc" <<'EOF'
# Sidecar Lab toolbox: system-wide setup for interactive bash shells.
[ -z "${PS1-}" ] && return

shopt -s checkwinsize histappend
HISTSIZE=10000
HISTFILESIZE=20000
HISTCONTROL=ignoredups

PS1='\[\e[1;32m\]\u@sandbox\[\e[0m\]:\[\e[1;34m\]\w\[\e[0m\]\$ '

if ! shopt -oq posix && [ -f /usr/share/bash-completion/bash_completion ]; then
  . /usr/share/bash-completion/bash_completion
fi
if [ -r /usr/share/bash-completion/completions/kubectl ]; then
  . /usr/share/bash-completion/completions/kubectl
else
  source <(kubectl completion bash)
fi
alias k=kubectl
complete -o default -F __start_kubectl k

alias ls='ls --color=auto'
alias ll='ls -l'
export LESS=-R
EOF
  cat >"$m/etc/tmux.conf" <<'EOF'
# Sidecar Lab toolbox: the browser terminal attaches to a tmux session, which should stay out of the way.
set -g default-terminal "xterm-256color"
set -g history-limit 10000
set -g status off
# No delay after Escape, or vim in the browser terminal feels laggy.
set -sg escape-time 0
set -g set-titles off
setw -g aggressive-resize on
EOF
  # vim-tiny reads only this file; Debian's default is vi-compatible mode, where arrows and backspace in insert
  # mode surprise people. Two-space indents suit YAML.
  cat >"$m/etc/vim/vimrc.tiny" <<'EOF'
set nocompatible
set backspace=indent,eol,start
set autoindent expandtab tabstop=2 shiftwidth=2 softtabstop=2
set ruler
EOF
  printf '\n# Sidecar Lab: two-space indents for YAML.\nset tabsize 2\nset tabstospaces\n' >>"$m/etc/nanorc"

  slim_rootfs "$m"
  "${BUILDAH[@]}" umount "$ctr" >/dev/null
  "${BUILDAH[@]}" config --user 1000 --workingdir /home/learner \
    --env "PATH=$PATH_ENV" --env HOME=/home/learner --env TERM=xterm-256color --env LANG=C.UTF-8 \
    --cmd '["sleep","infinity"]' "$ctr"
  publish "$ctr" toolbox "$rcp" "$repo" "$K8S_VERSION" latest
}

# The sandbox server as a workload: Node.js, the built site and the server's own files, run as a user without a home
# or a shell, from a root filesystem the Deployment mounts read-only.
build_server() { # staged-app-dir
  local app=$1 repo=sidecar-lab/server rcp ctr m base tag
  tag=$(cd "$app" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-12)
  rcp=$(recipe server "$SUITE" "$MIRROR" "$tag")
  if up_to_date server "$rcp" "$repo" "$tag" latest; then
    say "server:$tag up to date"
    printf '%s\n' "$tag"
    return
  fi
  base=$(base_rootfs server ca-certificates)
  say "building server:$tag ..."
  new_container server
  ctr=$CTR
  m=$(mount_container "$ctr")
  cp -a "$base/." "$m/"
  chroot "$m" groupadd --gid 10001 lab
  chroot "$m" useradd --uid 10001 --gid 10001 --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin lab
  install -m 0755 "$app/node" "$m/usr/local/bin/node"
  install -d -m 0755 "$m/app"
  (cd "$app" && tar --exclude=./node -cf - .) | tar -C "$m/app" --no-same-owner -xf -
  slim_rootfs "$m"
  "${BUILDAH[@]}" umount "$ctr" >/dev/null
  "${BUILDAH[@]}" config --user 10001:10001 --workingdir /app \
    --env "PATH=$PATH_ENV" --env NODE_ENV=production --env LANG=C.UTF-8 \
    --env SIDECAR_LAB_SITE_DIR=/app/dist/site --env SIDECAR_LAB_DATA_DIR=/data \
    --port 4321 --cmd '["node","--max-semi-space-size=4","sandbox-server/src/main.ts"]' "$ctr"
  publish "$ctr" server "$rcp" "$repo" "$tag" latest
  printf '%s\n' "$tag"
}

# Debian's PostgreSQL for deploy:local: the server binaries and an entrypoint that makes the database cluster on
# first start. Tagged by its recipe (Debian suite, mirror, this script, the entrypoint), so a rebuild is skipped
# while none of them changed.
build_postgres() { # entrypoint-script
  local entry=$1 repo=sidecar-lab/postgres rcp ctr m base tag version
  rcp=$(recipe postgres "$SUITE" "$MIRROR" "$(hash_of "$entry")")
  tag=${rcp:0:12}
  if up_to_date postgres "$rcp" "$repo" "$tag" latest; then
    say "postgres:$tag up to date"
    printf '%s\n' "$tag"
    return
  fi
  base=$(base_rootfs postgres postgresql-15)
  say "building postgres:$tag ..."
  new_container postgres
  ctr=$CTR
  m=$(mount_container "$ctr")
  cp -a "$base/." "$m/"
  version=$(ls "$m/usr/lib/postgresql")
  [[ -x $m/usr/lib/postgresql/$version/bin/postgres ]] || die "no postgres binary in the PostgreSQL root filesystem"
  # The package's own cluster and configuration are for a host with a service manager; the entrypoint makes its own.
  rm -rf "$m"/var/lib/postgresql/* "$m"/etc/postgresql/*
  # A fixed numeric user, so the Pod can require a non-root one (runAsNonRoot cannot check a user by name).
  chroot "$m" groupmod --gid 10002 postgres
  chroot "$m" usermod --uid 10002 --gid 10002 postgres
  install -d -m 0700 -o 10002 -g 10002 "$m/var/lib/postgresql/data"
  install -m 0755 "$entry" "$m/usr/local/bin/sidecar-lab-postgres"
  slim_rootfs "$m"
  "${BUILDAH[@]}" umount "$ctr" >/dev/null
  "${BUILDAH[@]}" config --user 10002:10002 --workingdir /var/lib/postgresql \
    --env "PATH=/usr/lib/postgresql/$version/bin:$PATH_ENV" --env LANG=C.UTF-8 \
    --env PGDATA=/var/lib/postgresql/data/pgdata --port 5432 --stop-signal SIGINT \
    --cmd '["/usr/local/bin/sidecar-lab-postgres"]' "$ctr"
  publish "$ctr" postgres "$rcp" "$repo" "$tag" latest
  printf '%s\n' "$tag"
}

if [[ -n $SERVER_APP ]]; then
  build_server "$SERVER_APP"
  exit 0
fi
if [[ -n $POSTGRES_ENTRYPOINT ]]; then
  build_postgres "$POSTGRES_ENTRYPOINT"
  exit 0
fi
build_busybox
build_pause
build_nginx
build_toolbox
