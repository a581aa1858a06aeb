// Turns the CLI's config flags into the API's container_config and lifecycle_config. A file given
// alone is sent as written, so the line numbers in the server's errors are the file's own. `-` as a
// file name reads standard input. Values given as flags are checked here, so an error names the flag
// (`--env 1BAD=x`), not a line of YAML the user never wrote.
import { readFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';
import { ENV_NAME_HELP, isEnvName } from '../core/env.js';
import { IMAGE_HELP, isImageReference, isImageTag, TAG_HELP } from '../core/image.js';
import { CliError, EXIT } from './errors.js';

export interface ContainerFlags {
  containerConfig?: string;
  env?: string[];
  unsetEnv?: string[];
  imageTag?: string;
  image?: string;
}

const STDIN = '-';

/** What an error calls the file: its path, or standard input. */
const nameOf = (path: string) => (path === STDIN ? 'standard input' : path);

function readText(path: string, flag: string): string {
  try {
    return readFileSync(path === STDIN ? 0 : path, 'utf8');
  } catch (err) {
    throw new CliError(`${flag}: cannot read ${nameOf(path)} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, EXIT.usage);
  }
}

/** Standard input can be read once: two flags cannot both take it. */
export function checkOneStdin(flags: { containerConfig?: string; lifecycleConfig?: string }): void {
  if (flags.containerConfig === STDIN && flags.lifecycleConfig === STDIN) {
    throw new CliError('--container-config and --lifecycle-config cannot both read standard input (-); give one of them a file', EXIT.usage);
  }
}

/** KEY=VALUE; the value may be empty and may contain '='. */
export function parseEnvFlag(text: string): { name: string; value: string } {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new CliError(`--env takes KEY=VALUE (got "${text}")`, EXIT.usage);
  const name = text.slice(0, eq);
  if (!isEnvName(name)) throw new CliError(`--env ${text}: "${name}" is not a variable name (${ENV_NAME_HELP})`, EXIT.validation);
  return { name, value: text.slice(eq + 1) };
}

function checkFlagValues(flags: ContainerFlags): void {
  for (const name of flags.unsetEnv ?? []) {
    if (!isEnvName(name)) throw new CliError(`--unset-env ${name}: not a variable name (${ENV_NAME_HELP})`, EXIT.validation);
  }
  if (flags.image !== undefined && !isImageReference(flags.image)) throw new CliError(`--image ${flags.image}: must be ${IMAGE_HELP}`, EXIT.validation);
  if (flags.imageTag !== undefined && !isImageTag(flags.imageTag)) throw new CliError(`--image-tag ${flags.imageTag}: must be ${TAG_HELP}`, EXIT.validation);
}

export function containerConfigFrom(flags: ContainerFlags): string | undefined {
  const env = (flags.env ?? []).map(parseEnvFlag);
  checkFlagValues(flags);
  const text = flags.containerConfig !== undefined ? readText(flags.containerConfig, '--container-config') : undefined;
  const unset = flags.unsetEnv ?? [];
  if (env.length === 0 && unset.length === 0 && flags.imageTag === undefined && flags.image === undefined) return text;

  let base: Record<string, unknown> = {};
  if (text !== undefined && text.trim() !== '') {
    const source = nameOf(flags.containerConfig!);
    let doc: unknown;
    try {
      doc = parse(text);
    } catch (err) {
      throw new CliError(`--container-config: ${source} is not valid YAML: ${(err as Error).message.split('\n')[0]}`, EXIT.validation);
    }
    if (doc !== null && (typeof doc !== 'object' || Array.isArray(doc))) throw new CliError(`--container-config: ${source} must hold a YAML mapping of container_config keys`, EXIT.validation);
    base = (doc ?? {}) as Record<string, unknown>;
  }
  if (flags.image !== undefined) base.image = flags.image;
  if (flags.imageTag !== undefined) base.image_tag = flags.imageTag;
  if (env.length > 0) {
    // A flag wins over the same variable in the file.
    const list = Array.isArray(base.env) ? (base.env as { name?: unknown }[]).filter((e) => !env.some((f) => f.name === e?.name)) : [];
    base.env = [...list, ...env];
  }
  if (unset.length > 0) base.unset_env = [...(Array.isArray(base.unset_env) ? (base.unset_env as string[]) : []), ...unset];
  return stringify(base);
}

/** A JSON or YAML file of lifecycle_config keys. */
export function lifecycleConfigFrom(path: string | undefined): Record<string, unknown> | undefined {
  if (path === undefined) return undefined;
  const text = readText(path, '--lifecycle-config');
  let value: unknown;
  try {
    value = parse(text); // YAML is a superset of JSON
  } catch (err) {
    throw new CliError(`--lifecycle-config: ${nameOf(path)} is neither JSON nor YAML: ${(err as Error).message.split('\n')[0]}`, EXIT.validation);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new CliError(`--lifecycle-config: ${nameOf(path)} must hold an object of lifecycle_config keys`, EXIT.validation);
  return value as Record<string, unknown>;
}
