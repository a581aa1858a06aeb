// Whether a container that carries the current config's labels really is what wsm would make: one
// recreated behind wsm's back with copied labels (`docker rm -f` then `docker run --label …`), or
// reconfigured in place (`docker update`), keeps the hash label while its image, environment,
// command, mounts, port or limits say otherwise. Pure: the runtime reads the container and its
// image, this compares, and each difference comes back as words for the `Repaired` condition.
// Environment values are never put in words (they may be secrets): only the variables' names.
import type Docker from 'dockerode';
import { GENERATION_LABEL } from './spec.js';

/** What the container's image gives a container that does not say otherwise. */
export interface ImageDefaults {
  env: string[];
  entrypoint: string[];
  cmd: string[];
}

type Argv = string | string[] | null | undefined;

function argv(value: Argv): string[] {
  if (!value) return [];
  return typeof value === 'string' ? [value] : value;
}

function sameArgv(a: Argv, b: Argv): boolean {
  const x = argv(a);
  const y = argv(b);
  return x.length === y.length && x.every((part, i) => part === y[i]);
}

function envMap(entries: readonly string[] | null | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const entry of entries ?? []) {
    const at = entry.indexOf('=');
    if (at > 0) out.set(entry.slice(0, at), entry.slice(at + 1));
    else out.set(entry, '');
  }
  return out;
}

function list(names: string[]): string {
  return names.sort().join(', ');
}

/** The environment the container should have (the image's, overridden by wsm's) against what it has. */
function envDrift(actual: readonly string[] | null | undefined, wanted: readonly string[] | undefined, image: ImageDefaults): string[] {
  const want = envMap(image.env);
  for (const [k, v] of envMap(wanted)) want.set(k, v);
  const have = envMap(actual);
  const changed = [...want].filter(([k, v]) => have.has(k) && have.get(k) !== v).map(([k]) => k);
  const missing = [...want.keys()].filter((k) => !have.has(k));
  const added = [...have.keys()].filter((k) => !want.has(k));
  const out: string[] = [];
  if (changed.length > 0) out.push(`environment variable ${list(changed)} had another value`);
  if (missing.length > 0) out.push(`environment variable ${list(missing)} was missing`);
  if (added.length > 0) out.push(`environment variable ${list(added)} had been added`);
  return out;
}

function restartName(name: string | undefined): string {
  return name ? name : 'no';
}

const LIMITS: [keyof Docker.HostConfig, string][] = [
  ['Memory', 'memory limit'],
  ['MemoryReservation', 'memory request'],
  ['CpuQuota', 'CPU limit'],
  ['CpuShares', 'CPU request'],
];

/** One sentence per difference between the container and `wanted` (its create options); empty when none. */
export function driftOf(info: Docker.ContainerInspectInfo, wanted: Docker.ContainerCreateOptions, image: ImageDefaults): string[] {
  const out: string[] = [];
  const config = info.Config;
  const host = info.HostConfig ?? {};
  const wantedHost = wanted.HostConfig ?? {};
  if (config.Image !== wanted.Image) out.push(`image ${config.Image} instead of ${wanted.Image}`);
  out.push(...envDrift(config.Env, wanted.Env, image));

  // Docker's own rules: an entrypoint given at create drops the image's CMD.
  const entrypoint = wanted.Entrypoint ?? image.entrypoint;
  const cmd = wanted.Cmd ?? (wanted.Entrypoint ? [] : image.cmd);
  if (!sameArgv(config.Entrypoint as Argv, entrypoint) || !sameArgv(config.Cmd as Argv, cmd)) out.push('the command had been changed');
  if (wanted.WorkingDir && config.WorkingDir !== wanted.WorkingDir) out.push(`working directory ${config.WorkingDir || '(image default)'} instead of ${wanted.WorkingDir}`);
  if (wanted.Hostname && config.Hostname !== wanted.Hostname) out.push(`hostname ${config.Hostname} instead of ${wanted.Hostname}`);

  const labels = config.Labels ?? {};
  const changedLabels = Object.entries(wanted.Labels ?? {}).filter(([k, v]) => k !== GENERATION_LABEL && labels[k] !== v).map(([k]) => k);
  if (changedLabels.length > 0) out.push(`label ${list(changedLabels)} had been changed or removed`);

  const binds = new Set(host.Binds ?? []);
  const lostBinds = (wantedHost.Binds ?? []).filter((b) => !binds.has(b));
  if (lostBinds.length > 0) out.push(`mount ${list(lostBinds)} was missing`);

  for (const [port, bindings] of Object.entries(wantedHost.PortBindings ?? {}) as [string, { HostIp?: string; HostPort?: string }[]][]) {
    const have = (host.PortBindings as Record<string, { HostIp?: string; HostPort?: string }[]> | undefined)?.[port] ?? [];
    const fits = bindings.every((w) => have.some((h) => (h.HostIp ?? '') === (w.HostIp ?? '') && (!w.HostPort || h.HostPort === w.HostPort)));
    if (!fits || have.length === 0) out.push(`port ${port} was not published as wsm publishes it`);
  }

  const policy = restartName(host.RestartPolicy?.Name);
  const wantedPolicy = restartName(wantedHost.RestartPolicy?.Name);
  if (policy !== wantedPolicy) out.push(`engine restart policy ${policy} instead of ${wantedPolicy}`);
  for (const [field, words] of LIMITS) {
    const have = Number(host[field] ?? 0);
    const want = Number(wantedHost[field] ?? 0);
    if (have !== want) out.push(`${words} ${have || 'none'} instead of ${want || 'none'}`);
  }
  return out;
}
