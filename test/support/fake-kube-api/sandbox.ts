// The simulated kubelet's stand-in for a container filesystem: a directory per pod on the host where a
// postStart exec hook really runs. ConfigMap volumes are written out at their mount paths and the
// container's /tmp is the pod's own directory; arguments naming those paths are pointed there.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeObject } from './store.js';

type Obj = Record<string, any>;

export interface HookRun {
  exitCode: number;
  output: string;
}

export class PodSandboxes {
  private readonly root = mkdtempSync(join(tmpdir(), 'fake-kubelet-'));

  private dir(pod: KubeObject): string {
    return join(this.root, String(pod.metadata.uid));
  }

  /** Host paths for the container's mounts of ConfigMaps, and /tmp. */
  private mounts(pod: KubeObject, container: Obj, configMap: (name: string) => KubeObject | undefined): [string, string][] {
    const base = this.dir(pod);
    const out: [string, string][] = [['/tmp', join(base, 'tmp')]];
    mkdirSync(join(base, 'tmp'), { recursive: true });
    const volumes = ((pod.spec as Obj).volumes ?? []) as Obj[];
    for (const mount of (container.volumeMounts ?? []) as Obj[]) {
      const volume = volumes.find((v) => v.name === mount.name);
      if (!volume?.configMap) continue;
      const target = join(base, 'volumes', mount.name);
      mkdirSync(target, { recursive: true });
      const data = ((configMap(volume.configMap.name)?.data ?? {}) as Record<string, string>);
      for (const [key, text] of Object.entries(data)) writeFileSync(join(target, key), text, { mode: volume.configMap.defaultMode ?? 0o644 });
      out.push([mount.mountPath, target]);
    }
    return out;
  }

  private static rewrite(arg: string, mounts: [string, string][]): string {
    for (const [path, host] of mounts) {
      if (arg === path) return host;
      if (arg.startsWith(`${path}/`)) return host + arg.slice(path.length);
    }
    return arg;
  }

  /** Runs the container's postStart exec command; undefined when it has none. */
  runPostStart(pod: KubeObject, configMap: (name: string) => KubeObject | undefined): Promise<HookRun> | undefined {
    const container = ((pod.spec as Obj).containers as Obj[])[0]!;
    const command = container.lifecycle?.postStart?.exec?.command as string[] | undefined;
    if (!command?.length) return undefined;
    const mounts = this.mounts(pod, container, configMap);
    const [file, ...args] = command.map((a) => PodSandboxes.rewrite(a, mounts));
    const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: join(this.dir(pod), 'tmp') };
    for (const e of (container.env ?? []) as Obj[]) env[e.name] = String(e.value ?? '');
    return new Promise((resolve) => {
      execFile(file!, args, { cwd: join(this.dir(pod), 'tmp'), env, timeout: 60_000 }, (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 126) : 0;
        resolve({ exitCode: code, output: `${stdout}${stderr}` });
      });
    });
  }

  /** A file of the container (only its /tmp exists here); undefined when missing. */
  readFile(pod: KubeObject, path: string): string | undefined {
    if (!path.startsWith('/tmp/')) return undefined;
    try {
      return readFileSync(join(this.dir(pod), 'tmp', path.slice('/tmp/'.length)), 'utf8');
    } catch {
      return undefined;
    }
  }

  close(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}
