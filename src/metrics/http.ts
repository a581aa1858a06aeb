// HTTP metrics as one onRequest hook: the route template (never the URL: /api/workspaces/:name is one
// series, not one per workspace), the method, the status class, and the time to the answer. The
// response's 'close' event ends every request, answered, failed or abandoned by the client, so the
// in-flight gauge cannot drift. Event streams are counted as clients, not timed: their lifetime is not
// a latency.
import type { FastifyInstance } from 'fastify';
import type { Families } from './families.js';

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
const EVENTS_ROUTE = '/api/events';

function statusClass(code: number): string {
  return code >= 100 && code < 600 ? `${Math.floor(code / 100)}xx` : 'other';
}

export function installHttpMetrics(app: FastifyInstance, families: Families): void {
  // One child per label set, found by a string key: cheaper per request than prom-client hashing the labels.
  const timers = new Map<string, { observe(seconds: number): void }>();
  const timer = (route: string, method: string, cls: string) => {
    const key = `${route} ${method} ${cls}`;
    let found = timers.get(key);
    if (!found) {
      found = families.httpDuration.labels(route, method, cls);
      timers.set(key, found);
    }
    return found;
  };

  app.addHook('onRequest', (req, reply, done) => {
    const began = performance.now();
    const route = req.is404 ? 'unmatched' : (req.routeOptions.url ?? 'unmatched');
    const method = METHODS.has(req.method) ? req.method : 'OTHER';
    const stream = route === EVENTS_ROUTE && method === 'GET';
    families.httpInFlight.inc();
    if (stream) families.sseClients.inc();
    const res = reply.raw;
    res.once('close', () => {
      families.httpInFlight.dec();
      if (stream) families.sseClients.dec();
      const cls = res.writableFinished || res.headersSent ? statusClass(res.statusCode) : 'aborted';
      if (stream && cls === '2xx') return;
      timer(route, method, cls).observe((performance.now() - began) / 1000);
    });
    done();
  });
}
