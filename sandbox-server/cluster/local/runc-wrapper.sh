#!/bin/sh
# runc, with one adjustment for these hosts: root here lacks CAP_SYS_RESOURCE, so no process may lower its OOM score
# below its parent's, and runc fails ("can't get final child's PID") when the kubelet asks for -998 (pause) or -997
# (Guaranteed Pods). Negative scores in the bundle are raised to 0 before runc reads them; nothing else changes.
prev=
for arg in "$@"; do
  case $prev in --bundle | -b) bundle=$arg ;; esac
  prev=$arg
done
if [ -n "${bundle:-}" ] && [ -f "$bundle/config.json" ]; then
  sed -i -E 's/"oomScoreAdj":-[0-9]+/"oomScoreAdj":0/' "$bundle/config.json"
fi
exec /usr/sbin/runc "$@"
