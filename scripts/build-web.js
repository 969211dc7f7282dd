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
  // What main loads only on demand (the HTML-source tab's highlighter): a file of its own, fetched
  // from /assets/ by a dynamic import() when first needed, never named in the index.
  chunkNames: 'chunk-[hash]',
  assetNames: '[name]-[hash]',
  bundle: true,
  splitting: true,
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

const asset = (path) => path.slice(path.lastIndexOf('/assets/') + 1);
const outputs = Object.entries(result.metafile.outputs);
// The index loads the entry point (and its stylesheet) only; the entry imports the rest itself.
const [entryPath, entry] = outputs.find(([, output]) => output.entryPoint?.endsWith('src/main.tsx'));
const scripts = [asset(entryPath)];
const styles = entry.cssBundle ? [asset(entry.cssBundle)] : [];
// What the entry pulls in by static imports (a shared helper chunk) loads with it; the rest waits
// for a dynamic import().
const withEntry = new Set();
const follow = (path) => {
  if (withEntry.has(path)) return;
  withEntry.add(path);
  for (const dep of result.metafile.outputs[path]?.imports ?? []) if (dep.kind === 'import-statement') follow(dep.path);
};
follow(entryPath);
const startup = [...withEntry].map(asset).filter((p) => p.endsWith('.js'));
const lazy = outputs.map(([path]) => asset(path)).filter((p) => p.endsWith('.js') && !startup.includes(p));

const template = await readFile(new URL('index.html', root), 'utf8');
const index = template
  .replace('<!-- kotak:styles -->', styles.map((p) => `<link rel="stylesheet" nonce="%KOTAK_NONCE%" href="${p}" />`).join('\n    '))
  .replace('<!-- kotak:scripts -->', scripts.map((p) => `<script type="module" nonce="%KOTAK_NONCE%" src="${p}"></script>`).join('\n    '));
await writeFile(new URL('index.html', dist), index);

let gzipped = 0;
for (const path of [...startup, ...styles]) gzipped += gzipSync(await readFile(new URL(path, dist))).length;
let lazyGzipped = 0;
for (const path of lazy) lazyGzipped += gzipSync(await readFile(new URL(path, dist))).length;
if (process.env.KOTAK_BUILD_QUIET !== '1') {
  console.log(`web inbox built: ${[...startup, ...styles].join(', ')} (${(gzipped / 1024).toFixed(1)} KB gzipped); loaded on demand: ${lazy.join(', ') || 'nothing'} (${(lazyGzipped / 1024).toFixed(1)} KB gzipped)`);
}
