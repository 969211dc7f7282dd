/**
 * The wire types have one source, the route schemas (src/api/schemas.ts). These checks run in the
 * type checker (`npm run typecheck` compiles test/): the client's types (which web/src/api.ts
 * re-exports, so the inbox has no shapes of its own) are the schemas' types, and what the server builds (src/mail/types.ts,
 * src/live/protocol.ts, the relay store's rows) fits the schemas both ways, so a field added on one
 * side and not the other fails the build. The runtime test only gives vitest something to run.
 */
import type { z } from '@hono/zod-openapi';
import { describe, expect, it } from 'vitest';
import type * as Schemas from '../../src/api/schemas.js';
import type * as Client from '../../src/client/types.js';
import type { LiveFrame } from '../../src/live/protocol.js';
import type * as Domain from '../../src/mail/types.js';
import type { RelayJob } from '../../src/store/relay-types.js';
import type { SpamCheckResult } from '../../src/checks/spam/index.js';
import type { LinkCheckReport } from '../../src/checks/links/types.js';

/** True when each type is assignable to the other (modifiers such as readonly properties aside). */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Wire<S extends z.ZodType> = z.infer<S>;

const checks = {
  // The client's types are the schemas'.
  address: true satisfies Same<Client.Address, Wire<typeof Schemas.AddressSchema>>,
  summary: true satisfies Same<Client.MessageSummary, Wire<typeof Schemas.MessageSummarySchema>>,
  detail: true satisfies Same<Client.MessageDetail, Wire<typeof Schemas.MessageViewSchema>>,
  page: true satisfies Same<Client.MessagePage, Wire<typeof Schemas.MessagePageSchema>>,
  link: true satisfies Same<Client.MessageLink, Wire<typeof Schemas.LinkSchema>>,
  stats: true satisfies Same<Client.Stats, Wire<typeof Schemas.StatsSchema>>,
  relayJob: true satisfies Same<Client.RelayJob, Wire<typeof Schemas.RelayJobSchema>>,
  // What the server builds is what the schemas (and so the document) say.
  domainAddress: true satisfies Same<Domain.Address, Wire<typeof Schemas.AddressSchema>>,
  domainAttachment: true satisfies Same<Domain.AttachmentInfo, Wire<typeof Schemas.AttachmentSchema>>,
  domainEnvelope: true satisfies Same<Domain.Envelope, Wire<typeof Schemas.EnvelopeSchema>>,
  domainSummary: true satisfies Same<Domain.MessageSummary, Wire<typeof Schemas.MessageSummarySchema>>,
  domainDetail: true satisfies Same<Domain.MessageDetail, Wire<typeof Schemas.MessageDetailSchema>>,
  relayRow: true satisfies Same<RelayJob, Wire<typeof Schemas.RelayJobSchema>>,
  liveFrame: true satisfies Same<LiveFrame, Wire<typeof Schemas.LiveFrameSchema>>,
  // checks: spam
  spamCheck: true satisfies Same<Client.SpamCheck, Wire<typeof Schemas.SpamCheckSchema>>,
  spamCheckResult: true satisfies Same<SpamCheckResult, Wire<typeof Schemas.SpamCheckSchema>>,
  // checks: links
  linkCheck: true satisfies Same<LinkCheckReport, Wire<typeof Schemas.LinkCheckSchema>>,
  clientLinkCheck: true satisfies Same<Client.LinkCheck, Wire<typeof Schemas.LinkCheckSchema>>,
};

describe('wire types', () => {
  it('come from the route schemas (checked by the type checker)', () => {
    expect(Object.values(checks).every(Boolean)).toBe(true);
  });
});
