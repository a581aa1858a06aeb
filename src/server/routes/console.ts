// The web console at /apps/workspaces: one HTML shell and the bundle that `npm run build` puts in
// dist/console. The page routes with the URL hash, so every path below /apps/workspaces gets the shell.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { FastifyReply } from 'fastify';
import { Type } from 'typebox';
import { errorBody } from '../errors.js';
import { WsmError } from '../../core/errors.js';
import type { ServerContext, WsmApp } from '../context.js';
import { ERRORS, NoBody, textBody } from '../responses.js';

// src/server/routes and dist/server/routes are both three levels below the package root.
export const DEFAULT_CONSOLE_DIR = fileURLToPath(new URL('../../../dist/console/', import.meta.url));

const ASSETS: Record<string, string> = {
  'console.js': 'text/javascript; charset=utf-8',
  'console.css': 'text/css; charset=utf-8',
  'favicon.svg': 'image/svg+xml',
};

// Scripts and styles come only from wsm itself: no inline script, no CDN.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

function shell(version: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Workspaces · wsm</title>
<link rel="icon" href="/apps/workspaces/assets/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/apps/workspaces/assets/console.css?v=${encodeURIComponent(version)}">
<script type="module" src="/apps/workspaces/assets/console.js?v=${encodeURIComponent(version)}"></script>
</head>
<body>
<div id="app"><noscript>The wsm console needs JavaScript. The API is at /api/workspaces.</noscript></div>
</body>
</html>
`;
}

const PAGE = { hide: true, response: { 200: textBody('text/html', 'The console page'), ...ERRORS } };
const ASSET = {
  hide: true,
  params: Type.Object({ file: Type.String() }),
  response: { 200: { description: 'console.js, console.css or favicon.svg', content: Object.fromEntries(Object.values(ASSETS).map((type) => [type, { schema: Type.String() }])) }, ...ERRORS },
};

// The page and its assets are public: they hold no data, and the page signs in through the API.
export async function consoleRoutes(app: WsmApp, ctx: ServerContext, options: { dir?: string } = {}): Promise<void> {
  const dir = options.dir ?? DEFAULT_CONSOLE_DIR;

  const missing = (reply: FastifyReply, what: string) => {
    const error = new WsmError('internal_error', `The console is not built (${what} is missing in ${dir}): run \`npm run build\` or \`node scripts/build-console.mjs\`.`);
    return reply.status(500).type('application/json').send(errorBody(error));
  };

  const page = async (_req: unknown, reply: FastifyReply) => {
    try {
      await readFile(dir + 'console.js');
    } catch {
      return missing(reply, 'console.js');
    }
    return reply
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-cache')
      .header('content-security-policy', CSP)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'same-origin')
      .send(shell(ctx.version));
  };
  app.get('/apps/workspaces', { config: { auth: 'public' }, schema: PAGE }, page);
  app.get('/apps/workspaces/', { config: { auth: 'public' }, schema: PAGE }, page);
  app.get('/', { config: { auth: 'public' }, schema: { hide: true, response: { 302: NoBody, ...ERRORS } } }, async (_req, reply) => reply.redirect('/apps/workspaces'));
  // Browsers ask for /favicon.ico on any page of the origin (an API answer opened in a tab, too).
  app.get('/favicon.ico', { config: { auth: 'public' }, schema: { hide: true, response: { 302: NoBody, ...ERRORS } } }, async (_req, reply) => reply.redirect('/apps/workspaces/assets/favicon.svg'));

  app.get('/apps/workspaces/assets/:file', { config: { auth: 'public' }, schema: ASSET }, async (req, reply) => {
    const { file } = req.params;
    const type = ASSETS[file];
    if (!type) throw new WsmError('not_found', `There is no console asset ${file}.`);
    let body: string;
    try {
      body = await readFile(dir + file, 'utf8');
    } catch {
      return missing(reply, file);
    }
    return reply.type(type).header('cache-control', 'no-cache').header('x-content-type-options', 'nosniff').send(body);
  });
}
