/**
 * Mailpit's GET /api/v1/message/{ID}/html-check: Kotak's HTML check (src/checks/html/) in Mailpit's
 * `HTMLCheckResponse` shape, scored as Mailpit scores it, so `mailpit-api`'s `htmlCheck()` works.
 */
import type { Hono } from 'hono';
import { accessScope } from '../../api/access.js';
import { checkHtml, parseMark, SCRIPT_SLUG, testCount, weightedTotal, byWeight, type HtmlCheck } from '../../checks/html/check.js';
import type { CaniemailFeature, CaniemailIndex } from '../../checks/html/data.js';
import { KotakError } from '../../errors.js';
import type { CompatDeps } from '../deps.js';
import { PAGE_NOT_FOUND, resolveId } from './http.js';

interface MailpitResult {
  Name: string;
  Platform: string;
  Family: string;
  Version: string;
  Support: 'yes' | 'no' | 'partial';
  NoteNumber: string;
}

interface MailpitScore {
  Found: number;
  Supported: number;
  Partial: number;
  Unsupported: number;
}

interface MailpitWarning {
  Slug: string;
  Title: string;
  Description: string;
  URL: string;
  Category: string;
  Tags: string[];
  Keywords: string;
  Results: MailpitResult[];
  NotesByNumber: Record<string, string>;
  Score: MailpitScore;
}

export interface MailpitHtmlCheck {
  Warnings: MailpitWarning[];
  Platforms: Record<string, string[]>;
  Total: { Tests: number; Nodes: number; Supported: number; Partial: number; Unsupported: number };
}

export function mountMailpitHtmlCheck(app: Hono, deps: CompatDeps): void {
  const { store } = deps;
  app.get('/api/v1/message/:id/html-check', async (c) => {
    const message = await store.get(accessScope(c), await resolveId(store, c.req.param('id'), c));
    if (!message) throw new KotakError('not_found', PAGE_NOT_FOUND);
    // Mailpit's answer, word for word: a 400 with this text.
    if (message.html === null || message.html === '') throw new KotakError('invalid_request', 'message does not contain HTML');
    return c.json(toMailpitHtmlCheck(await checkHtml(message.html)));
  });
}

/**
 * Mailpit counts every tested client version: "y" is yes, "n" no, anything else (partial, a note,
 * unknown) partial, with the last note number kept.
 */
function mailpitResults(feature: CaniemailFeature, data: CaniemailIndex): MailpitResult[] {
  const results: MailpitResult[] = [];
  const { family: families, platform: platforms } = data.raw.nicenames;
  for (const [family, byPlatform] of Object.entries(feature.stats)) {
    for (const [platform, byVersion] of Object.entries(byPlatform)) {
      for (const [Version, mark] of Object.entries(byVersion)) {
        const Support = mark === 'y' ? 'yes' : mark === 'n' ? 'no' : 'partial';
        results.push({
          Name: `${families[family] ?? family} ${platforms[platform] ?? platform} (${Version})`,
          Platform: platform, Family: family, Version, Support,
          NoteNumber: Support === 'partial' ? (parseMark(mark).notes.at(-1) ?? '') : '',
        });
      }
    }
  }
  return results;
}

function mailpitScore(results: readonly MailpitResult[], found: number): MailpitScore {
  const share = (s: MailpitResult['Support']) => (results.length ? (results.filter((r) => r.Support === s).length / results.length) * 100 : 0);
  return { Found: found, Supported: share('yes'), Partial: share('partial'), Unsupported: share('no') };
}

export function toMailpitHtmlCheck(check: HtmlCheck): MailpitHtmlCheck {
  const { scan, data } = check;
  const warnings: MailpitWarning[] = [];
  for (const [slug, finding] of scan.findings) {
    const feature = data.bySlug.get(slug);
    if (slug === SCRIPT_SLUG || !feature) {
      warnings.push({
        Slug: SCRIPT_SLUG, Title: '<script> element', Description: 'JavaScript is not supported in any email client.', URL: '',
        Category: 'html', Tags: [], Keywords: '', Results: [], NotesByNumber: {},
        Score: { Found: finding.count, Supported: 0, Partial: 0, Unsupported: 100 },
      });
      continue;
    }
    const results = mailpitResults(feature, data);
    warnings.push({
      Slug: slug, Title: feature.title, Description: markdownToHtml(feature.description ?? ''), URL: feature.url, Category: feature.category,
      Tags: [...feature.tags],
      // Mailpit leaves Keywords out of its answer (an empty string).
      Keywords: '',
      Results: results,
      NotesByNumber: Object.fromEntries(Object.entries(feature.notes_by_num ?? {}).map(([n, note]) => [n, markdownToHtml(note)])),
      Score: mailpitScore(results, finding.count),
    });
  }
  const weighable = warnings.map((w) => ({ slug: w.Slug, count: w.Score.Found, score: { supported: w.Score.Supported, partial: w.Score.Partial, unsupported: w.Score.Unsupported } }));
  const total = weightedTotal(weighable, scan.nodes);
  const order = byWeight(scan.nodes);
  const sorted = warnings
    .map((warning, i) => ({ warning, weighable: weighable[i]! }))
    .sort((a, b) => order(a.weighable, b.weighable))
    .map((entry) => entry.warning);
  return {
    Warnings: sorted,
    Platforms: platforms(data),
    Total: { Tests: testCount(data), Nodes: scan.nodes, Supported: total.supported, Partial: total.partial, Unsupported: total.unsupported },
  };
}

let platformCache: { data: CaniemailIndex; platforms: Record<string, string[]> } | null = null;

/** Mailpit's Platforms: every platform with the client families tested on it, by name, sorted. */
function platforms(data: CaniemailIndex): Record<string, string[]> {
  if (platformCache?.data === data) return platformCache.platforms;
  const byPlatform = new Map<string, Set<string>>();
  for (const feature of data.raw.data) {
    for (const [family, byPlatformStats] of Object.entries(feature.stats)) {
      for (const platform of Object.keys(byPlatformStats)) {
        const names = byPlatform.get(platform) ?? new Set<string>();
        names.add(data.raw.nicenames.family[family] ?? family);
        byPlatform.set(platform, names);
      }
    }
  }
  const result = Object.fromEntries([...byPlatform].map(([platform, names]) => [platform, [...names].sort()]));
  platformCache = { data, platforms: result };
  return result;
}

const escapeHtml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * The little Markdown caniemail writes (`code`, [links](url), **bold**) as the HTML Mailpit sends
 * (it renders the descriptions with a Markdown library); everything else is escaped text.
 */
export function markdownToHtml(markdown: string): string {
  return escapeHtml(markdown.trim())
    .replace(/`([^`]+)`/g, '<code>$1</code>')
    .replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>')
    .replace(/\[([^\]]+)\]\((https?:\/\/[^)\s]+)\)/g, '<a href="$2" target="_blank">$1</a>');
}
