/**
 * What `npm pack` ships and what the Docker image runs: the licence, source maps that lead to
 * shipped sources, and a Dockerfile whose health check follows the configured HTTP address (no
 * Docker engine here, so the Dockerfile is read, and the health check command run for real).
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, normalize } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { withKotak } from '../helpers/kotak.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const run = promisify(execFile);

interface PackedFile {
  readonly path: string;
}

let packed: Promise<Set<string>> | undefined;

/** The files `npm pack` would put in the tarball (dist/ and web/dist/ as the global setup built them); asked once. */
function packedFiles(): Promise<Set<string>> {
  return (packed ??= listPackedFiles());
}

async function listPackedFiles(): Promise<Set<string>> {
  const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 });
  const [pack] = JSON.parse(stdout) as [{ files: PackedFile[] }];
  return new Set(pack.files.map((f) => f.path));
}

describe('the npm package', () => {
  it('ships the MIT licence that package.json names', async () => {
    const files = await packedFiles();
    expect(files.has('LICENSE')).toBe(true);
    const licence = readFileSync(join(ROOT, 'LICENSE'), 'utf8');
    expect(licence).toMatch(/^MIT License\n\nCopyright \(c\) 2026 Kotak contributors\n/);
    expect((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { license: string }).license).toBe('MIT');
  });

  it('ships every source file its source maps point to', async () => {
    const files = await packedFiles();
    const maps = [...files].filter((path) => path.endsWith('.map'));
    expect(maps.length).toBeGreaterThan(0);
    const missing: string[] = [];
    for (const map of maps) {
      const { sources, sourceRoot = '' } = JSON.parse(readFileSync(join(ROOT, map), 'utf8')) as { sources: string[]; sourceRoot?: string };
      for (const source of sources) {
        const target = normalize(join(dirname(map), sourceRoot, source));
        if (!files.has(target)) missing.push(`${map} → ${source}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('ships what bin and exports name, and no tests', async () => {
    const files = await packedFiles();
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string>; exports: Record<string, Record<string, string>> };
    const named = [...Object.values(pkg.bin), ...Object.values(pkg.exports).flatMap((e) => Object.values(e)), 'bin/healthcheck.js', 'web/dist/index.html'];
    for (const path of named) expect(files.has(normalize(path)), path).toBe(true);
    expect([...files].filter((path) => /^(test|bench|web\/src)\//.test(path))).toEqual([]);
  });
});

describe('the client types', () => {
  it('compile in an application that installed the package, without skipLibCheck', { timeout: 60_000 }, async () => {
    const app = mkdtempSync(join(tmpdir(), 'kotak-types-'));
    try {
      mkdirSync(join(app, 'node_modules'));
      symlinkSync(ROOT, join(app, 'node_modules', 'kotak'), 'dir');
      writeFileSync(
        join(app, 'use.ts'),
        `import { KotakClient, type MessageDetail, type MessagePage, type MessageSummary } from 'kotak/client';
export async function read(client: KotakClient): Promise<string> {
  const message: MessageDetail = await client.waitFor({ subject: 'Welcome' });
  const page: MessagePage = await client.list();
  const row: MessageSummary | undefined = page.messages[0];
  return [message.subject, message.links[0]?.url, message.codes[0], message.envelope.mailFrom, row?.from?.address].join();
}
`,
      );
      const compilerOptions = { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: false, lib: ['ES2023', 'DOM'], types: [] };
      writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['use.ts'] }));
      const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
      await expect(run(process.execPath, [tsc, '-p', join(app, 'tsconfig.json')], { cwd: app })).resolves.toMatchObject({ stdout: '' });
    } finally {
      rmSync(app, { recursive: true, force: true });
    }
  });
});

describe('the Dockerfile', () => {
  const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  const stages = dockerfile.split(/^(?=FROM )/m).slice(1);
  const runtime = stages.at(-1) ?? '';

  it('builds and runs on a maintained Node LTS image', () => {
    expect(stages.length).toBe(2);
    for (const stage of stages) expect(stage).toMatch(/^FROM node:24-[a-z]+-slim\b/);
  });

  it('checks health at the configured address, not a fixed port', () => {
    const healthcheck = /^HEALTHCHECK (?:.*\\\n)*.*$/m.exec(runtime)?.[0] ?? '';
    expect(healthcheck).toContain('CMD ["node", "bin/healthcheck.js"]');
    expect(healthcheck).not.toMatch(/8025|livez/);
  });

  it('copies no sources into the runtime stage', () => {
    const copies = runtime.split('\n').filter((line) => line.startsWith('COPY'));
    expect(copies.length).toBeGreaterThan(0);
    for (const line of copies) expect(line).not.toMatch(/\/(src|web)(\s|$)|\bsrc\b/);
    expect(copies).toContain('COPY --from=build /app/web/dist ./web/dist');
  });

  it('keeps dependencies, builds and the repository out of the build context', () => {
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n');
    for (const entry of ['.git', 'node_modules', 'dist', 'web/dist', 'test']) expect(ignored).toContain(entry);
  });
});

describe('bin/healthcheck.js (the image HEALTHCHECK)', () => {
  let stop: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await stop?.();
    stop = undefined;
  });

  /** Runs the check with only these KOTAK_* variables set, as the container's environment would. */
  async function healthcheck(env: Record<string, string>): Promise<{ code: number; stderr: string }> {
    const clean = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('KOTAK_')));
    try {
      const { stderr } = await run(process.execPath, [join(ROOT, 'bin/healthcheck.js')], { env: { ...clean, ...env } });
      return { code: 0, stderr };
    } catch (err) {
      const failed = err as { code: number; stderr: string };
      return { code: failed.code, stderr: failed.stderr };
    }
  }

  it('follows KOTAK_HTTP and KOTAK_HTTP_BASE_PATH', async () => {
    const kotak = await withKotak({ httpBasePath: '/mail/' });
    stop = () => kotak.stop();
    const port = new URL(kotak.url).port;
    expect(port).not.toBe('8025');

    expect(await healthcheck({ KOTAK_HTTP: `127.0.0.1:${port}`, KOTAK_HTTP_BASE_PATH: '/mail/' })).toEqual({ code: 0, stderr: '' });
    // The image listens on 0.0.0.0; the check asks loopback.
    expect((await healthcheck({ KOTAK_HTTP: `0.0.0.0:${port}`, KOTAK_HTTP_BASE_PATH: '/mail' })).code).toBe(0);

    const wrongPath = await healthcheck({ KOTAK_HTTP: `127.0.0.1:${port}` });
    expect(wrongPath.code).toBe(1);
    expect(wrongPath.stderr).toContain(`http://127.0.0.1:${port}/livez answered 404`);
  });

  it('fails when nothing answers, and when the configuration is invalid', async () => {
    const kotak = await withKotak();
    const port = new URL(kotak.url).port;
    await kotak.stop();
    const gone = await healthcheck({ KOTAK_HTTP: `127.0.0.1:${port}` });
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('ECONNREFUSED');
    expect((await healthcheck({ KOTAK_HTTP: 'nonsense' })).code).toBe(1);
  });
});
