// Errors the domain raises; the server maps them onto HTTP statuses and Mage's error body.

export interface FieldError {
  field: string;
  message: string;
  line?: number;
}

export type ErrorType =
  | 'invalid_request'
  | 'validation_error'
  | 'not_found'
  | 'conflict'
  | 'precondition_failed'
  | 'unsupported_action'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'invalid_oauth_token'
  | 'expired_oauth_token'
  | 'unauthorized_access'
  | 'csrf_rejected'
  | 'too_many_requests'
  | 'service_unavailable'
  | 'internal_error';

const STATUS_BY_TYPE: Record<ErrorType, number> = {
  invalid_request: 400,
  validation_error: 400,
  unsupported_action: 400,
  invalid_oauth_token: 401,
  expired_oauth_token: 401,
  unauthorized_access: 403,
  csrf_rejected: 403,
  not_found: 404,
  conflict: 409,
  precondition_failed: 412,
  payload_too_large: 413,
  unsupported_media_type: 415,
  too_many_requests: 429,
  internal_error: 500,
  service_unavailable: 503,
};

export class WsmError extends Error {
  readonly status: number;
  constructor(
    readonly type: ErrorType,
    message: string,
    readonly errors: FieldError[] = [],
  ) {
    super(message);
    this.name = 'WsmError';
    this.status = STATUS_BY_TYPE[type];
  }
}

/** A 400 naming the fields that are wrong; the message is the first field's. */
export function validationError(errors: FieldError[]): WsmError {
  const first = errors[0];
  const message = first ? `${first.field}: ${first.message}` : 'The request is not valid.';
  return new WsmError('validation_error', message, errors);
}

export function notFound(name: string): WsmError {
  return new WsmError('not_found', `Workspace ${name} does not exist.`);
}
