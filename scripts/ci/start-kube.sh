#!/usr/bin/env bash
# Starts the real Kubernetes control plane for the real-cluster tests: ../shared/kube/start-cluster.sh
# (kube-apiserver and kube-controller-manager v1.32.13, Debian's etcd; no kubelet) on ports and in a
# directory of its own, so it cannot clash with another cluster on the machine.
# Prints the lines to eval: export WSM_TEST_KUBECONFIG=... (admin kubeconfig) and WSM_TEST_KUBE_DIR=...
# (where start-cluster.sh keeps its pids and logs; the API-server-restart test reads it).
# Stop it with: bash scripts/ci/start-kube.sh --stop
set -euo pipefail
cd "$(dirname "$0")/../.."

KUBE="${WSM_KUBE_DIST:-../shared/kube}"
DIR="${WSM_KUBE_DIR:-/tmp/wsm-kube-ci}"
export KUBE_API_PORT="${WSM_KUBE_API_PORT:-16443}"
export KUBE_ETCD_PORT="${WSM_KUBE_ETCD_PORT:-12379}"
export KUBE_ETCD_PEER_PORT="${WSM_KUBE_ETCD_PEER_PORT:-12380}"

log() { echo "start-kube: $*" >&2; }

if [ "${1:-}" = --stop ]; then
  bash "$KUBE/stop-cluster.sh" "$DIR" --wipe >&2
  exit 0
fi
[ -x "$KUBE/start-cluster.sh" ] || [ -f "$KUBE/start-cluster.sh" ] || { log "no control plane at $KUBE (set WSM_KUBE_DIST)"; exit 1; }

# A previous run's processes and data would hold the ports or carry old objects: start clean.
bash "$KUBE/stop-cluster.sh" "$DIR" --wipe >&2
log "starting the control plane in $DIR (API on 127.0.0.1:$KUBE_API_PORT)"
if ! bash "$KUBE/start-cluster.sh" "$DIR" >&2; then
  log "the control plane did not start; the last lines of its logs:"
  tail -n 20 "$DIR"/*.log >&2 || true
  exit 1
fi
echo "export WSM_TEST_KUBECONFIG=$DIR/kubeconfig"
echo "export WSM_TEST_KUBE_DIR=$DIR"
