// The HTTP face of the fake Kubernetes API server: routing, status bodies, patches, subresources and watches.
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { jsonPatch, mergePatch, strategicMergePatch } from './patch.js';
import { applyCreateDefaults, applyWriteDefaults, checkObject, checkUpdate, InvalidError, RESOURCES, type ResourceInfo } from './resources.js';
import type { KubeObject, ObjectStore, StoredEvent } from './store.js';
import { parseFieldSelector, parseLabelSelector } from './selectors.js';
import { semanticProblems } from './rules.js';
import { validateObject } from './validate.js';
import { acceptWebSocket } from './websocket.js';

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  contentType?: string;
  body?: unknown;
  /** The status the request was answered with; unset while unanswered (a watch, a hang). */
  status?: number;
  /** Whether the answer was one injected by a test rather than the store's own. */
  injected?: boolean;
}

export interface InvalidWrite {
  method: string;
  path: string;
  problems: string[];
  object: unknown;
}

/** A scripted answer: an error status, or a request that is never answered (a timeout for the client). */
export type InjectedResponse = { status: number; reason?: string; message?: string } | { hang: true };

interface Injection {
  method?: string;
  path: string | RegExp;
  responses: InjectedResponse[];
}

type Obj = Record<string, any>;

/** What a command run by exec in a pod's container printed and how it ended. */
export interface ExecOutcome {
  stdout?: string;
  stderr?: string;
  exitCode: number;
}

export type ExecHandler = (pod: KubeObject, container: string, command: string[]) => ExecOutcome | undefined;

/** An answer of the workspace behind the pod proxy. */
export interface ProxyAnswer {
  status: number;
  body: string;
  contentType?: string;
}

/** `path` includes the query string. */
export type ProxyHandler = (pod: KubeObject, port: number | undefined, path: string) => ProxyAnswer | undefined;

const PROXY = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/:]+)(?::(\d+))?\/proxy(\/.*)?$/;
const EXEC = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/exec$/;

class HttpError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    /** Per field, as the real server lists them in details.causes of a 422. */
    readonly causes?: { field: string; message: string }[],
  ) {
    super(message);
  }
}

function status(code: number, reason: string, message: string, causes?: { field: string; message: string }[]): Obj {
  const details = causes?.length ? { details: { causes: causes.map((c) => ({ reason: 'FieldValueInvalid', ...c })) } } : {};
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...details, code };
}

/** "spec.x: Invalid value: ..." as the real server splits it into a cause. */
function causeOf(problem: string): { field: string; message: string } {
  const at = problem.indexOf(': ');
  return at > 0 ? { field: problem.slice(0, at), message: problem.slice(at + 2) } : { field: '', message: problem };
}

const REASONS: Record<number, string> = {
  400: 'BadRequest',
  403: 'Forbidden',
  404: 'NotFound',
  409: 'Conflict',
  410: 'Expired',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
};

interface Route {
  resource: ResourceInfo;
  namespace?: string;
  name?: string;
  sub?: 'scale' | 'status';
}

function route(path: string): Route | 'namespace' | undefined {
  for (const resource of RESOURCES) {
    if (!path.startsWith(`${resource.prefix}/`)) continue;
    const rest = path.slice(resource.prefix.length + 1).split('/');
    if (rest[0] === resource.plural && rest.length === 1) return { resource };
    if (rest[0] === 'namespaces' && rest[2] === resource.plural) {
      const sub = rest[4] as Route['sub'] | undefined;
      if (rest.length > 5 || (sub !== undefined && sub !== 'scale' && sub !== 'status')) return undefined;
      if (sub === 'scale' && resource.plural !== 'statefulsets') return undefined;
      return { resource, namespace: rest[1], name: rest[3], sub };
    }
  }
  if (/^\/api\/v1\/namespaces\/[^/]+$/.test(path)) return 'namespace';
  return undefined;
}

export class FakeApiHttp {
  readonly requests: RecordedRequest[] = [];
  readonly invalid: InvalidWrite[] = [];
  /** Open watches that deliver nothing more (not even bookmarks) but stay open. */
  private readonly stalled = new Set<http.ServerResponse>();
  bookmarkMs = 1000;
  private readonly injections: Injection[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly watches = new Set<http.ServerResponse>();
  private server: http.Server | undefined;
  port = 0;
  execHandler: ExecHandler | undefined;
  proxyHandler: ProxyHandler | undefined;

  constructor(private readonly store: ObjectStore) {}

  async start(port = this.port): Promise<void> {
    const server = http.createServer((req, res) => void this.handle(req, res));
    server.on('upgrade', (req: http.IncomingMessage, socket: Socket) => this.upgrade(req, socket));
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
  }

  /** Closes the listener and every connection, like an API server going away. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    for (const res of this.watches) res.destroy();
    this.watches.clear();
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Every watch open now stops delivering without closing, as behind a proxy that lost the stream. */
  stallWatches(): void {
    for (const res of this.watches) this.stalled.add(res);
  }

  inject(injection: Injection): void {
    this.injections.push(injection);
  }

  private takeInjection(method: string, path: string): InjectedResponse | undefined {
    for (const injection of this.injections) {
      if (injection.method && injection.method !== method) continue;
      const matches = typeof injection.path === 'string' ? path === injection.path : injection.path.test(path);
      if (matches && injection.responses.length > 0) return injection.responses.shift();
    }
    return undefined;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const query = Object.fromEntries(url.searchParams.entries());
    const method = req.method ?? 'GET';
    const contentType = req.headers['content-type']?.split(';')[0];
    let body: unknown;
    try {
      const raw = await readBody(req);
      if (raw.length > 0) {
        if (contentType === 'application/apply-patch+yaml') {
          throw new HttpError(415, 'UnsupportedMediaType', 'server-side apply is not supported by this server');
        }
        body = JSON.parse(raw);
      }
      const recorded: RecordedRequest = { method, path: url.pathname, query, contentType, body };
      this.requests.push(recorded);
      res.once('finish', () => (recorded.status = res.statusCode));
      const injected = this.takeInjection(method, url.pathname);
      if (injected) {
        if ('hang' in injected) return; // never answered; the socket goes when the client gives up or on stop()
        recorded.injected = true;
        const reason = injected.reason ?? REASONS[injected.status] ?? 'Unknown';
        throw new HttpError(injected.status, reason, injected.message ?? `injected ${injected.status} for ${method} ${url.pathname}`);
      }
      const proxied = PROXY.exec(url.pathname);
      if (proxied) return this.proxy(res, proxied, url.search);
      const result = this.dispatch(method, url.pathname, query, contentType, body, res);
      if (result !== undefined) send(res, 200, result);
    } catch (err) {
      if (err instanceof HttpError) send(res, err.code, status(err.code, err.reason, err.message, err.causes));
      else if (err instanceof SyntaxError) send(res, 400, status(400, 'BadRequest', `invalid JSON: ${err.message}`));
      else send(res, 500, status(500, 'InternalError', String((err as Error).stack ?? err)));
    }
  }

  private dispatch(method: string, path: string, query: Record<string, string>, contentType: string | undefined, body: unknown, res: http.ServerResponse): unknown {
    const served = RESOURCES.filter((x) => x.prefix === path);
    if (method === 'GET' && served.length > 0) return discovery(served);
    const r = route(path);
    if (r === undefined) throw new HttpError(404, 'NotFound', `the server could not find the requested resource (${method} ${path})`);
    if (r === 'namespace') {
      if (method !== 'GET') throw new HttpError(405, 'MethodNotAllowed', 'namespaces are read-only here');
      const name = path.split('/').pop()!;
      return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, uid: `ns-${name}`, resourceVersion: '1' }, status: { phase: 'Active' } };
    }
    const { resource, namespace, name, sub } = r;
    const plural = resource.plural;
    // dryRun=All: every check, nothing kept (the answer is the object as it would have been).
    if (query.dryRun !== undefined && query.dryRun !== 'All') throw new HttpError(400, 'BadRequest', `unsupported dry run directive: ${JSON.stringify(query.dryRun)}`);
    const dryRun = query.dryRun === 'All' && method !== 'GET';
    if (dryRun && (method === 'DELETE' || sub !== undefined)) throw new HttpError(400, 'BadRequest', 'this fake keeps dryRun to creates, replaces and patches of objects');
    if (name === undefined) {
      if (method === 'GET' && (query.watch === '1' || query.watch === 'true')) {
        this.watch(res, plural, namespace, query);
        return undefined;
      }
      if (method === 'GET') {
        let fields: (o: Record<string, unknown>) => boolean;
        try {
          fields = parseFieldSelector(query.fieldSelector);
        } catch (err) {
          throw new HttpError(400, 'BadRequest', (err as Error).message);
        }
        const items = this.store.list(plural, namespace, query.labelSelector).filter(fields).map((o) => this.withType(resource, o));
        return { apiVersion: resource.apiVersion, kind: `${resource.kind}List`, metadata: { resourceVersion: String(this.store.resourceVersion) }, items };
      }
      if (method === 'POST' && namespace !== undefined) return this.create(resource, namespace, body, method, path, dryRun);
      throw new HttpError(405, 'MethodNotAllowed', `${method} is not allowed on ${path}`);
    }
    const current = this.store.get(plural, namespace, name);
    const missing = () => new HttpError(404, 'NotFound', `${plural}${resource.prefix === '/api/v1' ? '' : '.' + resource.apiVersion.split('/')[0]} "${name}" not found`);
    if (sub === 'scale') return this.scale(resource, current, method, contentType, body, missing, path);
    switch (method) {
      case 'GET':
        if (!current) throw missing();
        return this.withType(resource, current);
      case 'PUT': {
        if (!current) throw missing();
        return this.update(resource, current, body as KubeObject, sub === 'status', method, path, dryRun);
      }
      case 'PATCH': {
        if (!current) throw missing();
        const patched = applyPatch(this.withType(resource, current), contentType, body) as KubeObject;
        return this.update(resource, current, patched, sub === 'status', method, path, dryRun);
      }
      case 'DELETE': {
        if (!current) throw missing();
        this.store.delete(plural, namespace, name);
        return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name, kind: plural, uid: current.metadata.uid } };
      }
      default:
        throw new HttpError(405, 'MethodNotAllowed', `${method} is not allowed on ${path}`);
    }
  }

  /** The API server's pod proxy: the pod must exist and run; the workspace's answer comes from the handler. */
  private proxy(res: http.ServerResponse, match: RegExpExecArray, search: string): void {
    const [, namespace, name, port, path = '/'] = match;
    const pod = this.store.get('pods', namespace!, name!);
    if (!pod) throw new HttpError(404, 'NotFound', `pods "${name}" not found`);
    const running = (pod.status as Obj | undefined)?.phase === 'Running';
    const answer = running ? this.proxyHandler?.(pod, port === undefined ? undefined : Number(port), `${path}${search}`) : undefined;
    if (!answer) {
      const why = running ? 'connect: connection refused' : 'the pod is not running';
      throw new HttpError(503, 'ServiceUnavailable', `error trying to reach service: dial tcp ${(pod.status as Obj | undefined)?.podIP ?? '<none>'}:${port ?? 80}: ${why}`);
    }
    res.writeHead(answer.status, { 'Content-Type': answer.contentType ?? 'application/json', 'Content-Length': Buffer.byteLength(answer.body) });
    res.end(answer.body);
  }

  /**
   * Exec over the v4.channel.k8s.io WebSocket protocol: channel 1 stdout, 2 stderr, 3 the status.
   * The command (repeated `command` parameters) is answered by the exec handler.
   */
  private upgrade(req: http.IncomingMessage, socket: Socket): void {
    const url = new URL(req.url ?? '/', 'http://fake');
    const query = Object.fromEntries(url.searchParams.entries());
    this.requests.push({ method: req.method ?? 'GET', path: url.pathname, query });
    const match = EXEC.exec(url.pathname);
    const pod = match ? this.store.get('pods', match[1]!, match[2]!) : undefined;
    if (!pod) {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const container = url.searchParams.get('container') ?? String(((pod.spec as Obj).containers as Obj[])[0]?.name);
    const command = url.searchParams.getAll('command');
    const ws = acceptWebSocket(req, socket, ['v4.channel.k8s.io']);
    if (!ws) return;
    const outcome = this.execHandler?.(pod, container, command) ?? { stderr: `exec: "${command[0]}": executable file not found in $PATH`, exitCode: 127 };
    const channel = (n: number, text: string) => ws.send(Buffer.concat([Buffer.from([n]), Buffer.from(text, 'utf8')]));
    if (outcome.stdout && url.searchParams.get('stdout') !== 'false') channel(1, outcome.stdout);
    if (outcome.stderr && url.searchParams.get('stderr') !== 'false') channel(2, outcome.stderr);
    const status =
      outcome.exitCode === 0
        ? { metadata: {}, status: 'Success' }
        : {
            metadata: {},
            status: 'Failure',
            message: `command terminated with non-zero exit code: error executing command [${command.join(' ')}], exit code ${outcome.exitCode}`,
            reason: 'NonZeroExitCode',
            details: { causes: [{ reason: 'ExitCode', message: String(outcome.exitCode) }] },
          };
    channel(3, JSON.stringify(status));
    ws.close();
  }

  private withType(resource: ResourceInfo, obj: KubeObject): KubeObject {
    return { apiVersion: resource.apiVersion, kind: resource.kind, ...obj };
  }

  private validated(resource: ResourceInfo, obj: KubeObject, method: string, path: string): void {
    try {
      checkObject(resource.plural, obj);
    } catch (err) {
      if (err instanceof InvalidError) throw this.invalidWrite(method, path, [err.message], obj);
      throw err;
    }
    const problems = [...validateObject(resource.kind, obj), ...semanticProblems(resource.plural, obj as Obj)];
    if (problems.length > 0) throw this.invalidWrite(method, path, problems, obj);
  }

  private invalidWrite(method: string, path: string, problems: string[], object: unknown): HttpError {
    this.invalid.push({ method, path, problems, object });
    return new HttpError(422, 'Invalid', problems.join('; '), problems.map(causeOf));
  }

  private create(resource: ResourceInfo, namespace: string, body: unknown, method: string, path: string, dryRun = false): KubeObject {
    const obj = structuredClone(body) as KubeObject;
    if (!obj || typeof obj !== 'object' || !obj.metadata?.name) {
      throw this.invalidWrite(method, path, ['metadata.name: Required value: name is required'], body);
    }
    if (obj.kind !== undefined && obj.kind !== resource.kind) {
      throw new HttpError(400, 'BadRequest', `the kind ${String(obj.kind)} does not match ${resource.kind}`);
    }
    if (obj.metadata.namespace !== undefined && obj.metadata.namespace !== namespace) {
      throw new HttpError(400, 'BadRequest', 'the namespace of the provided object does not match the namespace sent on the request');
    }
    if (this.store.get(resource.plural, namespace, obj.metadata.name)) {
      throw new HttpError(409, 'AlreadyExists', `${resource.plural} "${obj.metadata.name}" already exists`);
    }
    obj.metadata.namespace = namespace;
    delete obj.metadata.resourceVersion;
    if (resource.plural !== 'pods' && resource.plural !== 'persistentvolumeclaims') delete obj.status;
    applyCreateDefaults(resource.plural, obj);
    applyWriteDefaults(resource.plural, obj);
    const typed = this.withType(resource, obj);
    this.validated(resource, typed, method, path);
    return dryRun ? typed : this.withType(resource, this.store.create(resource.plural, typed));
  }

  private update(resource: ResourceInfo, current: KubeObject, next: KubeObject, statusOnly: boolean, method: string, path: string, dryRun = false): KubeObject {
    if (!next || typeof next !== 'object' || !next.metadata) throw new HttpError(400, 'BadRequest', 'the body is not an object');
    const sentRv = next.metadata.resourceVersion;
    if (sentRv !== undefined && sentRv !== '' && sentRv !== current.metadata.resourceVersion) {
      throw new HttpError(
        409,
        'Conflict',
        `Operation cannot be fulfilled on ${resource.plural} "${current.metadata.name}": the object has been modified; please apply your changes to the latest version and try again`,
      );
    }
    if (next.metadata.name !== current.metadata.name) throw new HttpError(400, 'BadRequest', 'the name of the object does not match the name on the URL');
    let merged: KubeObject;
    if (statusOnly) merged = { ...current, status: next.status };
    else {
      merged = structuredClone(next);
      if (current.status === undefined) delete merged.status;
      else merged.status = current.status;
      merged.metadata = { ...merged.metadata, namespace: current.metadata.namespace };
      try {
        checkUpdate(resource.plural, current, merged);
      } catch (err) {
        if (err instanceof InvalidError) throw this.invalidWrite(method, path, [err.message], merged);
        throw err;
      }
      applyWriteDefaults(resource.plural, merged);
    }
    const typed = this.withType(resource, merged);
    this.validated(resource, typed, method, path);
    return dryRun ? typed : this.withType(resource, this.store.update(resource.plural, typed));
  }

  private scale(resource: ResourceInfo, sts: KubeObject | undefined, method: string, contentType: string | undefined, body: unknown, missing: () => HttpError, path: string): unknown {
    if (!sts) throw missing();
    const spec = sts.spec as Obj;
    const current = {
      apiVersion: 'autoscaling/v1',
      kind: 'Scale',
      metadata: { name: sts.metadata.name, namespace: sts.metadata.namespace, uid: sts.metadata.uid, resourceVersion: sts.metadata.resourceVersion, creationTimestamp: sts.metadata.creationTimestamp },
      spec: { replicas: spec.replicas },
      status: { replicas: (sts.status as Obj | undefined)?.replicas ?? 0, selector: Object.entries(spec.selector?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`).join(',') },
    };
    if (method === 'GET') return current;
    if (method !== 'PUT' && method !== 'PATCH') throw new HttpError(405, 'MethodNotAllowed', `${method} is not allowed on scale`);
    const next = (method === 'PUT' ? body : applyPatch(current, contentType, body)) as Obj;
    const problems = validateObject('Scale', next);
    const replicas = next?.spec?.replicas;
    if (typeof replicas !== 'number' || replicas < 0) problems.push('spec.replicas: Invalid value: must be greater than or equal to 0');
    if (problems.length > 0) throw this.invalidWrite(method, path, problems, next);
    const updated = this.update(resource, sts, { ...sts, metadata: { ...sts.metadata, resourceVersion: next.metadata?.resourceVersion }, spec: { ...spec, replicas } }, false, method, path);
    return { ...current, metadata: { ...current.metadata, resourceVersion: updated.metadata.resourceVersion }, spec: { replicas } };
  }

  private watch(res: http.ServerResponse, plural: string, namespace: string | undefined, query: Record<string, string>): void {
    const resource = RESOURCES.find((r) => r.plural === plural)!;
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
    this.watches.add(res);
    const selector = parseLabelSelector(query.labelSelector);
    const matches = (e: StoredEvent) =>
      e.plural === plural &&
      (namespace === undefined || e.object.metadata.namespace === namespace) &&
      selector(e.object.metadata.labels ?? {});
    const write = (type: string, object: unknown) => {
      if (!this.stalled.has(res)) res.write(`${JSON.stringify({ type, object })}\n`);
    };
    const rv = query.resourceVersion;
    if (!rv || rv === '0') {
      for (const o of this.store.list(plural, namespace, query.labelSelector)) write('ADDED', this.withType(resource, o));
    } else {
      const events = this.store.eventsSince(Number(rv));
      if (!events) {
        write('ERROR', status(410, 'Expired', `too old resource version: ${rv} (${this.store.resourceVersion})`));
        this.watches.delete(res);
        res.end();
        return;
      }
      for (const e of events.filter(matches)) write(e.type, this.withType(resource, e.object));
    }
    const unsubscribe = this.store.subscribe((e) => {
      if (matches(e)) write(e.type, this.withType(resource, e.object));
    });
    const timeout = query.timeoutSeconds ? setTimeout(() => res.end(), Number(query.timeoutSeconds) * 1000) : undefined;
    // As the real server: with allowWatchBookmarks, a bookmark with the current resourceVersion now and then.
    const bookmarks =
      query.allowWatchBookmarks === 'true'
        ? setInterval(() => write('BOOKMARK', { apiVersion: resource.apiVersion, kind: resource.kind, metadata: { resourceVersion: String(this.store.resourceVersion) } }), this.bookmarkMs)
        : undefined;
    res.on('close', () => {
      unsubscribe();
      clearInterval(bookmarks);
      this.stalled.delete(res);
      clearTimeout(timeout);
      this.watches.delete(res);
    });
  }
}

/** Discovery (`GET /api/v1`, `/apis/<group>/<version>`): generic clients find a kind's plural here. */
function discovery(resources: ResourceInfo[]): Obj {
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: resources[0]!.apiVersion,
    resources: resources.map((r) => ({ name: r.plural, singularName: r.kind.toLowerCase(), namespaced: true, kind: r.kind, verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'] })),
  };
}

function applyPatch(current: unknown, contentType: string | undefined, body: unknown): unknown {
  try {
    switch (contentType) {
      case 'application/merge-patch+json':
        return mergePatch(current, body);
      case 'application/strategic-merge-patch+json':
        return strategicMergePatch(current, body);
      case 'application/json-patch+json':
        return jsonPatch(current, body);
      default:
        throw new HttpError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json (got ${contentType})`);
    }
  } catch (err) {
    if (err instanceof HttpError) throw err;
    throw new HttpError(422, 'Invalid', `the patch could not be applied: ${(err as Error).message}`);
  }
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: http.ServerResponse, code: number, body: unknown): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}
