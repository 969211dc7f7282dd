/**
 * The OpenAPI documents as a client generator would take them: valid for a real validator
 * (swagger-parser), clean under Redocly's recommended rules, and true to what Kotak serves
 * (operation ids, security, servers under a base path, the live frames, every compatible route).
 */
import SwaggerParser from '@apidevtools/swagger-parser';
import { OpenAPIHono } from '@hono/zod-openapi';
import { createConfig, lintFromString } from '@redocly/openapi-core';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LiveFrameSchema } from '../../src/api/schemas.js';
import type { CompatDeps } from '../../src/compat/deps.js';
import { mountMailhogApi } from '../../src/compat/mailhog/index.js';
import { mountMailpitApi } from '../../src/compat/mailpit/index.js';
import { COMPAT_OPERATIONS } from '../../src/compat/openapi.js';
import { getJson, LiveClient, transport, withKotak, type RunningKotak } from '../helpers/kotak.js';

interface Operation {
  operationId?: string;
  responses: Record<string, unknown>;
  security?: unknown[];
}
interface Document {
  servers?: { url: string }[];
  security?: unknown[];
  paths: Record<string, Record<string, Operation>>;
  components: { schemas?: Record<string, unknown>; securitySchemes?: Record<string, { type: string; scheme: string }> };
}

const METHODS = new Set(['get', 'put', 'post', 'delete', 'patch', 'head', 'options']);
const operations = (doc: Document) =>
  Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => METHODS.has(method))
      .map(([method, op]) => ({ path, method, op })),
  );

/** Redocly's findings as `severity rule pointer` lines. */
async function lint(doc: Document): Promise<string[]> {
  const config = await createConfig({ extends: ['recommended'] });
  const problems = await lintFromString({ source: JSON.stringify(doc), absoluteRef: '/openapi.json', config });
  return problems.map((p) => `${p.severity} ${p.ruleId} ${p.location[0]?.pointer ?? ''}`).sort();
}

describe('the OpenAPI documents', () => {
  let kotak: RunningKotak;
  let api: Document;
  let compat: Document;
  beforeAll(async () => {
    kotak = await withKotak({ httpBasePath: '/mail/' });
    api = (await getJson<Document>(kotak, '/api/openapi.json')).body;
    compat = (await getJson<Document>(kotak, '/api/openapi-compat.json')).body;
  });
  afterAll(async () => {
    await kotak?.stop();
  });

  for (const which of ['api', 'compat'] as const) {
    const doc = () => (which === 'api' ? api : compat);

    it(`${which}: is valid OpenAPI 3.1 for swagger-parser`, async () => {
      await expect(SwaggerParser.validate(structuredClone(doc()) as never)).resolves.toBeTruthy();
    });

    it(`${which}: has no errors under Redocly's recommended rules, and only the warnings a WebSocket route must have`, async () => {
      // A WebSocket route succeeds with 101, which the rule does not count as 2XX; there is nothing else to answer.
      const webSocket = which === 'api' ? '/api/live' : '/api/events';
      expect(await lint(doc())).toEqual([`warn operation-2xx-response #/paths/${webSocket.replaceAll('/', '~1')}/get/responses`]);
    });

    it(`${which}: names every operation uniquely, offers Basic and Bearer, and is served relative to the base path`, () => {
      const ids = operations(doc()).map(({ op }) => op.operationId);
      expect(ids.every((id) => typeof id === 'string' && id.length > 0)).toBe(true);
      expect(new Set(ids).size).toBe(ids.length);
      expect(doc().components.securitySchemes).toMatchObject({ basicAuth: { type: 'http', scheme: 'basic' }, bearerAuth: { type: 'http', scheme: 'bearer' } });
      expect(doc().security).toEqual([{ basicAuth: [] }, { bearerAuth: [] }, {}]);
      expect(doc().servers).toEqual([{ url: '/mail', description: 'This Kotak' }]);
      for (const { path, op } of operations(doc())) {
        expect(Object.keys(op.responses).some((status) => status.startsWith('4')), path).toBe(true);
      }
    });
  }

  it('api: leaves the probes open and describes the live frames', () => {
    expect(api.paths['/livez']?.get?.security).toEqual([]);
    expect(api.paths['/readyz']?.get?.security).toEqual([]);
    expect(api.paths['/api/live']?.get?.responses['101']).toMatchObject({ content: { 'application/json': { schema: { $ref: '#/components/schemas/LiveFrame' } } } });
    expect(Object.keys(api.components.schemas ?? {})).toEqual(expect.arrayContaining(['LiveFrame', 'MessageStoredFrame', 'MessageDeletedFrame', 'RelayUpdatedFrame']));
  });

  it('api: the frames /api/live sends match the documented LiveFrame schema', async () => {
    const live = await LiveClient.connect(kotak);
    try {
      await transport(kotak).sendMail({ from: 'a@kotak.test', to: 'b@kotak.test', subject: 'frames', text: 'x' });
      const stored = await live.next('message:stored');
      await fetch(`${kotak.url}/api/messages/${stored.data.id}`, { method: 'PATCH', headers: { 'Content-Type': 'application/json' }, body: '{"read":true}' });
      await live.next('message:updated');
      await fetch(`${kotak.url}/api/messages`, { method: 'PATCH', headers: { 'Content-Type': 'application/json' }, body: '{"read":false}' });
      await live.next('messages:updated');
      await fetch(`${kotak.url}/api/messages/${stored.data.id}`, { method: 'DELETE' });
      await live.next('message:deleted');
      expect(live.frames.map((f) => f.type)).toEqual(['message:stored', 'message:updated', 'messages:updated', 'message:deleted']);
      for (const frame of live.frames) expect(LiveFrameSchema.safeParse(frame).error).toBeUndefined();
    } finally {
      live.close();
    }
  });

  it('compat: lists exactly the Mailpit and MailHog routes Kotak mounts', () => {
    // Mounting registers handlers (one asks the store for its size, and gets no answer); nothing else is used until a request comes.
    const unused = new Proxy({}, { get: () => () => new Promise(() => undefined) });
    const deps = { store: unused, bus: unused, parser: unused, deliver: unused, log: pino({ level: 'silent' }), version: '0', maxMessageSize: 1 } as unknown as CompatDeps;
    const app = new OpenAPIHono();
    mountMailhogApi(app, deps);
    mountMailpitApi(app, deps);
    const mounted = new Set(app.routes.filter((r) => r.method !== 'ALL').map((r) => `${r.method} ${r.path}`));
    const documented = new Set(COMPAT_OPERATIONS.map((op) => `${op.method.toUpperCase()} ${op.path.replace(/\{(\w+)\}/g, ':$1')}`));
    expect([...documented].sort()).toEqual([...mounted].sort());
    expect(Object.keys(compat.paths)).toContain('/api/events');
  });
});
