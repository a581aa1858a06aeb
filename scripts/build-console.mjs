#!/usr/bin/env node
// Bundles the console into dist/console/ with esbuild: console.js, and console.css from the styles
// that console/main.ts imports; the icon is copied as it is.
// Runs in `npm run build` (and so in `npm ci`); `--watch` rebuilds on change while developing.
import { build, context } from 'esbuild';
import { copyFile, mkdir, stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const outdir = `${root}dist/console`;
const watch = process.argv.includes('--watch');

const options = {
  absWorkingDir: root,
  entryPoints: { console: 'console/main.ts' },
  outdir,
  bundle: true,
  format: 'esm',
  target: ['es2022', 'chrome110', 'firefox110', 'safari16'],
  minify: !watch,
  sourcemap: watch ? 'inline' : false,
  legalComments: 'none',
  logLevel: 'warning',
};

await mkdir(outdir, { recursive: true });
await copyFile(`${root}console/favicon.svg`, `${outdir}/favicon.svg`);
if (watch) {
  const ctx = await context(options);
  await ctx.watch();
  console.log(`watching console/ -> ${outdir}`);
} else {
  await build(options);
  const js = (await stat(`${outdir}/console.js`)).size;
  console.log(`console built in ${outdir}: console.js ${(js / 1024).toFixed(1)} KB`);
}
