// The OpenAPI document is generated from the same schemas that validate requests.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../support/server.js';

let srv: TestServer;
before(async () => {
  srv = await startTestServer();
});
after(async () => {
  await srv?.close();
});

test('/api/openapi.json describes the workspace API with its request schemas', async () => {
  const res = await srv.request('GET', '/api/openapi.json', { token: null });
  assert.equal(res.status, 200);
  const doc = res.body;
  assert.match(doc.openapi, /^3\./);
  for (const path of ['/api/workspaces', '/api/workspaces/{name}', '/api/status']) assert.ok(doc.paths[path], `${path} is documented`);
  const put = doc.paths['/api/workspaces/{name}'].put;
  const schema = put.requestBody.content['application/json'].schema;
  assert.deepEqual(schema.properties.workspace.properties.action.enum, ['stop', 'resume', 'patch', 'add_to_ingress']);
  assert.equal(schema.properties.workspace.properties.update_workspace_settings.type, 'boolean');
  // container_config: YAML text, or a mapping of the shape the server holds JSON objects to.
  const [text, shape] = schema.properties.workspace.properties.container_config.anyOf;
  assert.equal(text.type, 'string');
  assert.equal(shape.additionalProperties, false);
  assert.ok(['image', 'env', 'resources', 'image_tag', 'unset_env'].every((key) => key in shape.properties), Object.keys(shape.properties).join(', '));
  assert.deepEqual(Object.keys(shape.properties.resources.properties), ['limits', 'requests']);
  assert.ok(doc.paths['/api/workspaces'].post.requestBody, 'create has a body schema');
  assert.ok(doc.components.securitySchemes.oauthToken);
});

test('every answer carries a request id, and a given one is kept', async () => {
  const res = await srv.request('GET', '/api/status', { token: null, headers: { 'x-request-id': 'trace-123' } });
  assert.equal(res.headers.get('x-request-id'), 'trace-123');
  const other = await srv.request('GET', '/api/status', { token: null });
  assert.match(other.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
});
