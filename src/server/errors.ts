// Maps every failure onto Mage's error body with the right HTTP status:
// {"error": {"code", "type", "message", "errors": [{field, message}]}}.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { WsmError, type FieldError } from '../core/errors.js';
import { ClientGone } from './client-gone.js';
import { containerConfigInputErrors } from '../core/container-config.js';

export function errorBody(error: WsmError) {
  return {
    error: {
      code: error.status,
      type: error.type,
      message: error.message,
      errors: error.errors,
    },
  };
}

interface AjvIssue {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}

/** `/workspace/lifecycle_config/termination_policy` -> `lifecycle_config.termination_policy`. */
function fieldOf(issue: AjvIssue, part: string): string {
  const segments = issue.instancePath.split('/').filter(Boolean).map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'));
  if (part === 'body' && segments[0] === 'workspace') segments.shift();
  if (issue.keyword === 'additionalProperties') segments.push(String(issue.params.additionalProperty));
  if (issue.keyword === 'required') segments.push(String(issue.params.missingProperty));
  const path = segments.map((s, i) => (/^\d+$/.test(s) ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');
  return path || (part === 'body' ? 'workspace' : part);
}

function messageOf(issue: AjvIssue): string {
  switch (issue.keyword) {
    case 'additionalProperties':
      return 'is not a known field';
    case 'required':
      return 'is required';
    case 'type':
      return `must be of type ${String(issue.params.type)}`;
    case 'minimum':
      return `must be at least ${String(issue.params.limit)}`;
    case 'maximum':
      return `must be at most ${String(issue.params.limit)}`;
    case 'enum':
      return `must be one of ${(issue.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    default:
      return issue.message ?? 'is not valid';
  }
}

const CONTAINER_CONFIG = /^\/workspace\/container_config(\/|$)/;

/** The body's container_config, which the request schema refused. */
function containerConfigOf(body: unknown): unknown {
  if (typeof body !== 'object' || body === null || !('workspace' in body)) return undefined;
  const { workspace } = body;
  return typeof workspace === 'object' && workspace !== null && 'container_config' in workspace ? workspace.container_config : undefined;
}

export function fromValidation(issues: AjvIssue[], part: string, body?: unknown): WsmError {
  const seen = new Set<string>();
  const errors: FieldError[] = [];
  // The schema's own words for a union are poor ("must match a schema in anyOf"): core walks the
  // value along the same shape and says, field by field, what is allowed there.
  if (part === 'body' && issues.some((issue) => CONTAINER_CONFIG.test(issue.instancePath))) {
    const explained = containerConfigInputErrors(containerConfigOf(body));
    if (explained.length > 0) {
      issues = issues.filter((issue) => !CONTAINER_CONFIG.test(issue.instancePath));
      errors.push(...explained);
      for (const error of explained) seen.add(error.field);
    }
  }
  for (const issue of issues) {
    // anyOf branches repeat themselves; one line per field is enough for a person.
    if (issue.keyword === 'anyOf') continue;
    const field = fieldOf(issue, part);
    if (seen.has(field)) continue;
    seen.add(field);
    errors.push({ field, message: messageOf(issue) });
  }
  const first = errors[0];
  return new WsmError('validation_error', first ? `${first.field}: ${first.message}` : `The request ${part} is not valid.`, errors);
}

/** Fastify's own refusals before routing (a path with broken %-escapes, a path parameter too long), in our shape. */
export function frameworkError(err: FastifyError, _req: FastifyRequest, reply: FastifyReply): void {
  const message = err.code === 'FST_ERR_BAD_URL'
    ? 'The URL path is not valid: a %-escape in it does not decode to UTF-8 text.'
    : `The URL path is not valid: ${err.message}.`;
  void reply.status(400).send(errorBody(new WsmError('invalid_request', message, [{ field: 'path', message: 'is not a valid URL path' }])));
}

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError & { validation?: AjvIssue[]; validationContext?: string }, req, reply) => {
    let error: WsmError;
    if (err instanceof WsmError) {
      error = err;
    } else if (err instanceof ClientGone) {
      // Nobody reads this answer; the change was committed and goes on without its client.
      req.log.info('the client went away while waiting for its operation');
      error = new WsmError('invalid_request', err.message);
    } else if (err.validation) {
      error = fromValidation(err.validation, err.validationContext ?? 'body', req.body);
    } else if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      error = new WsmError('payload_too_large', 'The request body is too large.');
    } else if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      error = new WsmError('unsupported_media_type', `Send the body as application/json (got ${req.headers['content-type'] ?? 'no content type'}).`);
    } else if (err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err instanceof SyntaxError) {
      error = new WsmError('invalid_request', `The body is not valid JSON: ${err.message}`);
    } else if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
      error = new WsmError('invalid_request', err.message);
    } else {
      req.log.error({ err }, 'request failed');
      error = new WsmError('internal_error', 'Something went wrong on the server; the request may not have been carried out. See the server log.');
    }
    if (error.status >= 500) reply.header('retry-after', '1');
    void reply.status(error.status).send(errorBody(error));
  });
  app.setNotFoundHandler((req, reply) => {
    const error = new WsmError('not_found', `There is no route ${req.method} ${req.url.split('?')[0]}.`);
    void reply.status(404).send(errorBody(error));
  });
}
