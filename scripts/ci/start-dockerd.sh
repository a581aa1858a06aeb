#!/bin/sh
# Makes sure a Docker engine answers on the local socket: installs Debian's docker.io when dockerd is
# missing, starts dockerd (vfs storage: works without overlay support in CI sandboxes) when it does not
# answer, and waits a bounded time for it. Safe to run again while the engine is up.
set -eu

LOG=${DOCKERD_LOG:-/tmp/dockerd.log}
WAIT_SECONDS=${DOCKERD_WAIT_SECONDS:-60}

if docker info >/dev/null 2>&1; then
  echo "docker engine already answering"
  exit 0
fi

if ! command -v dockerd >/dev/null 2>&1; then
  echo "dockerd missing: installing docker.io"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq docker.io >/dev/null
fi

# A dockerd that is starting (e.g. from a parallel call) may not answer yet; starting a second one
# would fail on the pid file, so only start when none runs.
if ! pgrep -x dockerd >/dev/null 2>&1; then
  echo "starting dockerd (log: $LOG)"
  nohup dockerd --storage-driver=vfs >"$LOG" 2>&1 &
fi

i=0
while [ "$i" -lt "$WAIT_SECONDS" ]; do
  if docker info >/dev/null 2>&1; then
    echo "docker engine ready after ${i}s"
    exit 0
  fi
  sleep 1
  i=$((i + 1))
done

echo "docker engine did not answer within ${WAIT_SECONDS}s; last lines of $LOG:" >&2
tail -n 30 "$LOG" >&2 || true
exit 1
