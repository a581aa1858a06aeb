// Post-start on Kubernetes runs as the container's postStart hook (the kubelet runs it), so wsm cannot
// watch it run. A wrapper script, delivered in the hooks ConfigMap, runs the command and then the hook,
// and records each step (exit code, duration, last lines) as JSON in the container's /tmp, which the
// runtime reads back through exec. With fail_on_error the wrapper exits with the failure's code, the
// kubelet kills the container and the file goes with it: the wrapper then also prints the record,
// which the kubelet puts into the FailedPostStartHook event, where the runtime finds it.
import type { PostStartRecord, PostStartStepRecord } from '../../core/runtime.js';

/** The ConfigMap key of the wrapper (mounted next to the user's scripts). */
export const POST_START_WRAPPER_KEY = 'wsm-post-start-run';
/** Where the wrapper leaves its record: per container, so a restarted container starts clean. */
export const POST_START_RESULT_PATH = '/tmp/wsm-post-start.json';
/** Prefix of the record in the wrapper's output (and so in the kubelet's event message). */
export const RESULT_MARKER = 'wsm-post-start-result: ';
/** The reason of the kubelet's event for a postStart hook that failed. */
export const FAILED_POST_START_EVENT = 'FailedPostStartHook';

// Arguments: $1 fail_on_error (1/0), $2 the command line ('' = none), $3 the hook ('' = none),
// $4 the bound of each step in seconds (0 = none), $5 the record's path, $6 a port to wait for first
// (post_start.wait_for_port; 0 = run at once), for at most $4 seconds. POSIX sh, GNU or busybox tools;
// the port is tried with nc, else bash's /dev/tcp, else python3.
// Output is cut to its last 20 lines (and 1500 bytes, so the event message stays small) and escaped
// for JSON: control characters dropped, tabs made spaces, backslashes and quotes escaped, lines joined.
export const POST_START_WRAPPER = `#!/bin/sh
# Written by wsm: runs post_start.command, then the post-start hook, and records how each went.
fail=$1 cmd=$2 hook=$3 limit=$4 result=$5 port=\${6:-0}
answers() {
  if command -v nc >/dev/null 2>&1; then nc -z 127.0.0.1 "$1" >/dev/null 2>&1; return; fi
  if command -v bash >/dev/null 2>&1; then bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" >/dev/null 2>&1; return; fi
  python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', int(sys.argv[1])), 1)" "$1" >/dev/null 2>&1
}
if [ "$port" -gt 0 ] 2>/dev/null; then
  waited=0
  until answers "$port" || [ "$waited" -ge "$limit" ]; do sleep 1; waited=$((waited + 1)); done
fi
out=$(mktemp 2>/dev/null) || out="$result.out"
ms() { t=$(date +%s%N 2>/dev/null); case $t in ''|*[!0-9]*) echo $(( $(date +%s) * 1000 ));; *) echo $(( t / 1000000 ));; esac; }
tailof() { tail -n 20 "$out" | tail -c 1500 | tr -d '\\000-\\010\\013-\\037' | tr '\\t' ' ' | sed -e 's/\\\\/\\\\\\\\/g' -e 's/"/\\\\"/g' | awk '{ printf "%s%s", (NR > 1 ? "\\\\n" : ""), $0 }'; }
steps='' code=0 started=$(ms)
run() {
  name=$1; shift; begun=$(ms)
  if [ "$limit" -gt 0 ] 2>/dev/null && command -v timeout >/dev/null 2>&1; then timeout "$limit" "$@" >"$out" 2>&1; else "$@" >"$out" 2>&1; fi
  code=$?; took=$(( $(ms) - begun ))
  # GNU timeout exits 124; busybox's dies of its own TERM (143): then the time tells.
  timed=false
  if [ "$limit" -gt 0 ] 2>/dev/null && { [ "$code" = 124 ] || { [ "$code" = 143 ] && [ "$took" -ge $(( limit * 1000 - 1000 )) ]; }; }; then timed=true; fi
  steps="$steps\${steps:+,}{\\"step\\":\\"$name\\",\\"exit_code\\":$code,\\"duration_ms\\":$took,\\"timed_out\\":$timed,\\"output\\":\\"$(tailof)\\"}"
}
if [ -n "$cmd" ]; then run command /bin/sh -c "$cmd"; fi
if [ "$code" = 0 ] && [ -n "$hook" ]; then run hook "$hook"; fi
ok=true; [ "$code" = 0 ] || ok=false
fe=false; [ "$fail" = 1 ] && fe=true
json="{\\"ok\\":$ok,\\"fail_on_error\\":$fe,\\"started_ms\\":$started,\\"finished_ms\\":$(ms),\\"steps\\":[$steps]}"
printf '%s\\n' "$json" >"$result.tmp" && mv "$result.tmp" "$result"
rm -f "$out"
if [ "$code" != 0 ]; then
  printf '%s%s\\n' "${RESULT_MARKER}" "$json"
  if [ "$fail" = 1 ]; then exit "$code"; fi
fi
exit 0
`;

interface RawRecord {
  ok?: unknown;
  fail_on_error?: unknown;
  started_ms?: unknown;
  finished_ms?: unknown;
  steps?: unknown;
}

function toIso(ms: unknown, fallback: string): string {
  return typeof ms === 'number' && Number.isFinite(ms) ? new Date(ms).toISOString() : fallback;
}

function toStep(raw: unknown): PostStartStepRecord | undefined {
  if (raw === null || typeof raw !== 'object') return undefined;
  const s = raw as Record<string, unknown>;
  if ((s.step !== 'command' && s.step !== 'hook') || typeof s.exit_code !== 'number') return undefined;
  return {
    step: s.step,
    exit_code: s.exit_code,
    duration_ms: typeof s.duration_ms === 'number' ? Math.max(0, s.duration_ms) : 0,
    timed_out: s.timed_out === true,
    output: typeof s.output === 'string' ? s.output : '',
  };
}

/** Reads the wrapper's JSON record; undefined when it is not one. */
export function parseRecord(text: string, runId: string): PostStartRecord | undefined {
  let raw: RawRecord;
  try {
    raw = JSON.parse(text.trim()) as RawRecord;
  } catch {
    return undefined;
  }
  if (raw === null || typeof raw !== 'object' || typeof raw.ok !== 'boolean' || !Array.isArray(raw.steps)) return undefined;
  const steps = raw.steps.map(toStep);
  if (steps.some((s) => s === undefined)) return undefined;
  const now = new Date().toISOString();
  return {
    ok: raw.ok,
    fail_on_error: raw.fail_on_error === true,
    steps: steps as PostStartStepRecord[],
    started_at: toIso(raw.started_ms, now),
    finished_at: toIso(raw.finished_ms, now),
    run_id: runId,
  };
}

/**
 * The record in a FailedPostStartHook event's message. The kubelet quotes the hook's output after the
 * command, so the record is the rest of the line after the marker. A message without a readable record
 * (cut short, or a hook not written by wsm) still tells the exit code and what the kubelet said.
 */
export function recordFromEvent(message: string, runId: string, at: string): PostStartRecord {
  const start = message.indexOf(RESULT_MARKER);
  if (start >= 0) {
    // The kubelet quotes the output again after it (`, message: "..."`): the record is the shortest
    // prefix of the line that reads as one.
    const line = message.slice(start + RESULT_MARKER.length).split('\n')[0]!;
    for (let end = line.indexOf('}'); end > 0; end = line.indexOf('}', end + 1)) {
      const parsed = parseRecord(line.slice(0, end + 1), runId);
      if (parsed) return { ...parsed, fail_on_error: true };
    }
  }
  const code = /exited with (\d+)/.exec(message);
  return {
    ok: false,
    fail_on_error: true,
    steps: [{ step: 'hook', exit_code: code ? Number(code[1]) : -1, duration_ms: 0, timed_out: false, output: message }],
    started_at: at,
    finished_at: at,
    run_id: runId,
  };
}
