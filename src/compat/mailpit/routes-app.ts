/** Mailpit's tag routes and its application routes (info, web UI settings, Chaos). */
import type { Hono } from 'hono';
import { z } from 'zod';
import { KotakError } from '../../errors.js';
import { accessScope } from '../../api/access.js';
import type { CompatDeps } from '../deps.js';
import { readBody } from './http.js';
import { trackRuntimeStats } from './runtime-stats.js';
import { cleanTag, cleanTags } from '../../mailbox/tag-names.js';

const SetTagsSchema = z.object({ IDs: z.array(z.string()).nullish(), Tags: z.array(z.string()).nullish() });
const RenameTagSchema = z.object({ Name: z.string().nullish() });

export function mountTagRoutes(app: Hono, deps: CompatDeps): void {
  const { store, mailboxes } = deps;

  app.get('/api/v1/tags', async (c) => c.json((await store.tagCounts(accessScope(c))).map((t) => t.name)));

  // Replaces the tags of the given messages; no Tags (or an empty list) clears them.
  app.put('/api/v1/tags', async (c) => {
    const body = await readBody(c, SetTagsSchema);
    if (body === undefined) throw new KotakError('invalid_request', 'EOF');
    const ids = body.IDs ?? [];
    if (ids.length === 0) return c.text('ok');
    await mailboxes.setTags(accessScope(c), ids, cleanTags(body.Tags ?? []));
    return c.text('ok');
  });

  app.put('/api/v1/tags/:tag', async (c) => {
    const name = cleanTag((await readBody(c, RenameTagSchema))?.Name ?? '');
    if (name === null) throw new KotakError('invalid_request', 'invalid tag name');
    await mailboxes.renameTag(accessScope(c), c.req.param('tag'), name);
    return c.text('ok');
  });

  app.delete('/api/v1/tags/:tag', async (c) => {
    await mailboxes.deleteTag(accessScope(c), c.req.param('tag'));
    return c.text('ok');
  });
}

export function mountApplicationRoutes(app: Hono, deps: CompatDeps): void {
  const { store, bus, version } = deps;
  const runtimeStats = trackRuntimeStats(bus, store);

  app.get('/api/v1/info', async (c) => {
    const [stats, tags] = await Promise.all([store.stats(accessScope(c)), store.tagCounts(accessScope(c))]);
    return c.json({
      Version: version,
      // Mailpit asks GitHub for its latest release; Kotak does not phone home.
      LatestVersion: '',
      Database: '',
      // The stored messages' bytes: what the database mostly holds.
      DatabaseSize: stats.size,
      Messages: stats.total,
      Unread: stats.unread,
      Tags: Object.fromEntries(tags.map((t) => [t.name, t.count])),
      RuntimeStats: runtimeStats(accessScope(c)),
    });
  });

  // What Mailpit's own UI reads; of these features Kotak has only the spam check (with --spamassassin).
  app.get('/api/v1/webui', (c) =>
    c.json({
      Label: '',
      MessageRelay: {
        Enabled: false,
        SMTPServer: '',
        ReturnPath: '',
        AllowedRecipients: '',
        BlockedRecipients: '',
        OverrideFrom: '',
        PreserveMessageIDs: false,
        RecipientAllowlist: '',
      },
      SpamAssassin: Boolean(deps.spamCheck),
      // Chaos rules are always available (src/compat/mailpit/routes-chaos.ts).
      ChaosEnabled: Boolean(deps.chaos),
      DuplicatesIgnored: false,
      HideDeleteAllButton: false,
    }),
  );

  // What Mailpit answers when started without --enable-chaos (an app built without chaos rules).
  if (!deps.chaos) {
    const noChaos = () => {
      throw new KotakError('invalid_request', 'Chaos is not enabled');
    };
    app.get('/api/v1/chaos', noChaos);
    app.put('/api/v1/chaos', noChaos);
  }
}
