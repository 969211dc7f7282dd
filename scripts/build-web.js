// Builds the web inbox (web/src) into web/dist: content-hashed assets under assets/ and an
// index.html that points at them. The server injects <base href> at serve time, and a fresh CSP
// nonce for every response where the tags say %KOTAK_NONCE% (see src/api/web.ts).
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const root = new URL('../web/', import.meta.url);
const dist = new URL('dist/', root);

await rm(dist, { recursive: true, force: true });
await mkdir(new URL('assets/', dist), { recursive: true });

const result = await build({
  entryPoints: [new URL('src/main.tsx', root).pathname],
  outdir: new URL('assets/', dist).pathname,
  entryNames: '[name]-[hash]',
  assetNames: '[name]-[hash]',
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['chrome110', 'firefox110', 'safari16'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  sourcemap: 'linked',
  metafile: true,
  legalComments: 'none',
  logLevel: 'warning',
});

const outputs = Object.keys(result.metafile.outputs).map((path) => path.slice(path.lastIndexOf('/assets/') + 1));
const scripts = outputs.filter((p) => p.endsWith('.js'));
const styles = outputs.filter((p) => p.endsWith('.css'));

const template = await readFile(new URL('index.html', root), 'utf8');
const index = template
  .replace('<!-- kotak:styles -->', styles.map((p) => `<link rel="stylesheet" nonce="%KOTAK_NONCE%" href="${p}" />`).join('\n    '))
  .replace('<!-- kotak:scripts -->', scripts.map((p) => `<script type="module" nonce="%KOTAK_NONCE%" src="${p}"></script>`).join('\n    '));
await writeFile(new URL('index.html', dist), index);

let gzipped = 0;
for (const path of [...scripts, ...styles]) gzipped += gzipSync(await readFile(new URL(path, dist))).length;
if (process.env.KOTAK_BUILD_QUIET !== '1') console.log(`web inbox built: ${[...scripts, ...styles].join(', ')} (${(gzipped / 1024).toFixed(1)} KB gzipped)`);
