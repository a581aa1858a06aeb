// Making sure a workspace's image is present. No registry may be reachable (air-gapped engines use
// `docker load`/`docker import`), so a failed pull is a clear, permanent error, and never a hang.
import type Docker from 'dockerode';
import { PermanentRuntimeError } from '../../core/runtime.js';
import type { ImageCommand } from './spec.js';
import type { ImageDefaults } from './drift.js';
import { engineReason, isConnectionError, isNotFound } from './errors.js';

export type PullPolicy = 'Always' | 'IfNotPresent' | 'Never';

interface ImageLogger {
  warn(obj: object, msg: string): void;
}

/** Old engines may report a shell-form command as a plain string. */
function asArgv(value: string | string[] | null | undefined): string[] {
  if (!value) return [];
  return typeof value === 'string' ? ['/bin/sh', '-c', value] : value;
}

async function inspectImage(docker: Docker, image: string): Promise<ImageCommand | undefined> {
  try {
    const info = await docker.getImage(image).inspect();
    return { entrypoint: asArgv(info.Config?.Entrypoint), cmd: asArgv(info.Config?.Cmd) };
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** What an image gives a container that does not say otherwise (the drift check's baseline); undefined when the image is gone. */
export async function imageDefaults(docker: Docker, image: string): Promise<ImageDefaults | undefined> {
  try {
    const config = (await docker.getImage(image).inspect()).Config;
    return { env: config?.Env ?? [], entrypoint: asArgv(config?.Entrypoint), cmd: asArgv(config?.Cmd) };
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** Pulls an image, failing with the engine's reason; aborts after timeoutMs. */
async function pull(docker: Docker, image: string, timeoutMs: number): Promise<void> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  try {
    const stream = await docker.pull(image, { abortSignal: abort.signal });
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        (stream as unknown as { destroy?: () => void }).destroy?.();
        reject(new Error(`no answer from the registry within ${Math.round(timeoutMs / 1000)}s`));
      };
      abort.signal.addEventListener('abort', onAbort, { once: true });
      // The engine reports a failed pull inside the progress stream, not as an HTTP status.
      docker.modem.followProgress(stream, (err: Error | null, output: { error?: string; errorDetail?: { message?: string } }[]) => {
        abort.signal.removeEventListener('abort', onAbort);
        const failed = output?.find((o) => o.error || o.errorDetail);
        if (err) reject(err);
        else if (failed) reject(new Error(failed.errorDetail?.message ?? failed.error));
        else resolve();
      });
    });
  } catch (err) {
    if (abort.signal.aborted) throw new Error(`no answer from the registry within ${Math.round(timeoutMs / 1000)}s`);
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

/** The image's entrypoint and cmd, pulling the image first when the policy asks for it. */
export async function ensureImage(
  docker: Docker,
  image: string,
  policy: PullPolicy,
  timeoutMs: number,
  logger?: ImageLogger,
): Promise<ImageCommand> {
  const local = await inspectImage(docker, image);
  if (local && policy !== 'Always') return local;
  if (!local && policy === 'Never') {
    throw new PermanentRuntimeError(
      `image ${image} not found and could not be pulled: image_pull_policy is Never`,
      'ImagePullFailed',
    );
  }
  try {
    await pull(docker, image, timeoutMs);
  } catch (err) {
    if (isConnectionError(err)) throw err;
    if (local) {
      // Always-pull with a registry that is down: the local copy still runs the workspace.
      logger?.warn({ image, err: engineReason(err) }, 'image pull failed; using the local image');
      return local;
    }
    throw new PermanentRuntimeError(`image ${image} not found and could not be pulled: ${engineReason(err)}`, 'ImagePullFailed');
  }
  const pulled = await inspectImage(docker, image);
  if (!pulled) {
    throw new PermanentRuntimeError(`image ${image} not found and could not be pulled: the pull finished without the image`, 'ImagePullFailed');
  }
  return pulled;
}
