import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { applyUntil, assertNoInvalidWrites, harness, workspace, type Harness } from './helpers.js';

type Obj = Record<string, any>;
const paths = (h: Harness, name = 'wsm-ingress'): Obj[] => ((h.fake.get('ingresses', 'team', name)?.spec as Obj)?.rules ?? []).flatMap((r: Obj) => r.http?.paths ?? []);

describe('add_to_ingress on Kubernetes', () => {
  let h: Harness;
  before(async () => {
    h = await harness({ ingressClassName: 'nginx' });
  });
  after(async () => {
    assertNoInvalidWrites(h.fake);
    await h.close();
  });

  test('creates the shared Ingress with one path, and applying twice adds nothing', async () => {
    const ws = workspace('ing-a', { ingress: { enabled: true } });
    await h.runtime.apply(ws);
    await h.runtime.apply(ws);
    const ing = h.fake.get('ingresses', 'team', 'wsm-ingress')!;
    assert.equal((ing.spec as Obj).ingressClassName, 'nginx');
    assert.deepEqual(paths(h), [{ path: '/ing-a', pathType: 'ImplementationSpecific', backend: { service: { name: 'ing-a-service', port: { number: 6789 } } } }]);
  });

  test('a second workspace joins the same first rule; remove takes exactly its own path', async () => {
    const a = workspace('ing-a', { ingress: { enabled: true } });
    const b = workspace('ing-b', { ingress: { enabled: true } });
    await h.runtime.apply(b);
    await h.runtime.apply(b);
    assert.deepEqual(paths(h).map((p) => p.path).sort(), ['/ing-a', '/ing-b']);
    assert.equal(((h.fake.get('ingresses', 'team', 'wsm-ingress')!.spec as Obj).rules as Obj[]).length, 1);
    await h.runtime.remove(b, { deleteVolume: true });
    assert.deepEqual(paths(h).map((p) => p.path), ['/ing-a']);
    // The last one: the real API server refuses a rule with `http.paths: []` (and so does the fake).
    await h.runtime.remove(a, { deleteVolume: true });
    assert.deepEqual(paths(h), []);
    assert.deepEqual((h.fake.get('ingresses', 'team', 'wsm-ingress')!.spec as Obj).rules, [{}], 'the shared Ingress stays, valid, its rule without http');
    assert.equal(h.fake.get('services', 'team', 'ing-a-service'), undefined, 'the rest of the removal went through');
    assertNoInvalidWrites(h.fake);
    await h.runtime.apply(a);
    assert.deepEqual(paths(h).map((p) => p.path), ['/ing-a'], 'and it takes a path again');
  });

  test('url comes from the rule host, https when TLS covers it, else the load balancer', async () => {
    h.fake.put('ingresses', {
      metadata: { name: 'hosted', namespace: 'team' },
      spec: { rules: [{ host: 'ws.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'other', port: { number: 80 } } } }] } }], tls: [{ hosts: ['ws.example.com'], secretName: 'tls' }] },
    });
    const ws = workspace('ing-host', { ingress: { enabled: true, name: 'hosted' } });
    const observed = await applyUntil(h.runtime, ws, 'RUNNING');
    assert.equal(observed.url, 'https://ws.example.com/ing-host');
    assert.equal(paths(h, 'hosted')[0]!.path, '/ing-host', 'the workspace path goes first, before the catch-all');
    assert.equal(paths(h, 'hosted').length, 2, 'the existing path is kept');

    h.fake.put('ingresses', { ...h.fake.get('ingresses', 'team', 'hosted')!, spec: { ...(h.fake.get('ingresses', 'team', 'hosted')!.spec as Obj), tls: [] } });
    assert.equal((await h.runtime.observe(ws)).url, 'http://ws.example.com/ing-host');

    const lbWs = workspace('ing-lb', { ingress: { enabled: true, name: 'lb' } });
    await h.runtime.apply(lbWs);
    assert.equal((await h.runtime.observe(lbWs)).url, undefined, 'no host and no load balancer: no url');
    const lb = h.fake.get('ingresses', 'team', 'lb')!;
    h.fake.put('ingresses', { ...lb, status: { loadBalancer: { ingress: [{ ip: '203.0.113.7' }] } } });
    assert.equal((await h.runtime.observe(lbWs)).url, 'http://203.0.113.7/ing-lb');
    h.fake.put('ingresses', { ...lb, status: { loadBalancer: { ingress: [{ hostname: 'lb.example.net' }] } } });
    assert.equal((await h.runtime.observe(lbWs)).url, 'http://lb.example.net/ing-lb');
  });

  test('Prefix path type when configured', async () => {
    const runtime = h.newRuntime({ ingressPathType: 'Prefix', ingressName: 'prefixed' });
    await runtime.apply(workspace('ing-p', { ingress: { enabled: true } }));
    assert.equal(paths(h, 'prefixed')[0]!.pathType, 'Prefix');
  });

  test('a conflicting concurrent edit of the Ingress is retried and nothing is lost', async () => {
    const ws = workspace('ing-c', { ingress: { enabled: true, name: 'busy' } });
    h.fake.put('ingresses', { metadata: { name: 'busy', namespace: 'team' }, spec: { rules: [{ host: 'busy.example.com' }] } });
    h.fake.failNext({ method: 'PUT', path: '/apis/networking.k8s.io/v1/namespaces/team/ingresses/busy' }, { status: 409 }, { status: 409 });
    await h.runtime.apply(ws);
    assert.deepEqual(paths(h, 'busy').map((p) => p.path), ['/ing-c']);
    const puts = h.fake.requests.filter((r) => r.method === 'PUT' && r.path.endsWith('/ingresses/busy'));
    assert.equal(puts.length, 3);
    assert.ok(puts.every((r) => (r.body as Obj).metadata.resourceVersion), 'every replace is guarded by resourceVersion');
  });
});
