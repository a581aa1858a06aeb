// The few pages the proxy itself shows a browser: while a workspace starts, and when it cannot be reached.
const escape = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Shown while a workspace wakes: it reloads itself, and the reload lands on the workspace once it answers. */
export function startingPage(name: string, message: string, reloadSeconds: number): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="${reloadSeconds}">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Starting ${escape(name)}</title>
<style>body{font:16px system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#222}</style></head>
<body><h1>Workspace ${escape(name)} is starting</h1><p role="status">${escape(message)}</p>
<p>This page reloads every ${reloadSeconds} s and opens the workspace as soon as it answers.</p></body></html>
`;
}

/** A refusal a person reads (the workspace failed, is stopped, or may not be opened with this token). */
export function problemPage(title: string, message: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title>
<style>body{font:16px system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#222}</style></head>
<body><h1>${escape(title)}</h1><p>${escape(message)}</p></body></html>
`;
}
