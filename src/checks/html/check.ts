/**
 * The HTML compatibility check: which caniemail.com features a message's HTML uses, and how well
 * each email client supports them. Free of HTTP: the routes (Kotak's and Mailpit's) shape the answer.
 */
import { loadCaniemail, type CaniemailFeature, type CaniemailIndex } from './data.js';
import { buildPropertyTable } from './features.js';
import { DEFAULT_LIMITS, scanHtml, type HtmlCheckLimits, type HtmlScan, type ScanTables, type SourceLocation } from './scan.js';

export { DEFAULT_LIMITS as HTML_CHECK_LIMITS, type HtmlCheckLimits } from './scan.js';
export { SCRIPT_SLUG } from './features.js';

export interface HtmlCheck {
  readonly scan: HtmlScan;
  readonly data: CaniemailIndex;
}

let tables: { data: CaniemailIndex; tables: ScanTables } | null = null;

function scanTables(data: CaniemailIndex): ScanTables {
  if (tables?.data !== data) {
    tables = {
      data,
      tables: {
        properties: buildPropertyTable(data.raw.data.map((f) => [f.slug, f.keywords] as const)),
        slugs: new Set(data.bySlug.keys()),
      },
    };
  }
  return tables.tables;
}

/** Reads the HTML against the data; a `check_too_large` KotakError past a limit. */
export async function checkHtml(html: string, limits: HtmlCheckLimits = DEFAULT_LIMITS): Promise<HtmlCheck> {
  const data = await loadCaniemail();
  return { scan: await scanHtml(html, scanTables(data), limits), data };
}

/** How many features the HTML is tested against: caniemail's (BIMI is about headers, not HTML) and `<script>`. */
export function testCount(data: CaniemailIndex): number {
  return data.raw.data.filter((f) => f.slug !== 'bimi').length + 1;
}

export type Support = 'yes' | 'partial' | 'no' | 'unknown';

export interface ClientSupport {
  readonly family: string;
  readonly familyName: string;
  readonly platform: string;
  readonly platformName: string;
  readonly version: string;
  readonly support: Support;
  /** The notes the data attaches to this result (why partial, what to watch for). */
  readonly notes: readonly string[];
}

export interface Percentages {
  readonly supported: number;
  readonly partial: number;
  readonly unsupported: number;
}

export interface FeatureReport {
  readonly slug: string;
  readonly title: string;
  readonly category: string;
  readonly description: string;
  /** caniemail.com's page; '' for `<script>`, which it has none for. */
  readonly url: string;
  readonly count: number;
  readonly first: SourceLocation;
  /** Over every tested client version with a known result. */
  readonly score: Percentages;
  readonly clients: readonly ClientSupport[];
}

export interface HtmlCheckReport {
  readonly hasHtml: boolean;
  readonly data: { readonly source: string; readonly updated: string; readonly apiVersion: string };
  /** Elements of the HTML, counted as Mailpit counts them (every one but html, head and meta). */
  readonly nodes: number;
  readonly tests: number;
  /** Weighted as Mailpit weights it (see weightedTotal). */
  readonly total: Percentages;
  /** Worst first. */
  readonly features: readonly FeatureReport[];
}

const SOURCE = 'https://www.caniemail.com/';

/** The mark's letter: y, a (partial), n, u (unknown); the `#N` after it are note numbers. */
export function parseMark(mark: string): { letter: string; notes: string[] } {
  const [letter = 'u', ...rest] = mark.trim().split(/\s+/);
  return { letter, notes: rest.filter((n) => n.startsWith('#')).map((n) => n.slice(1)) };
}

const SUPPORT_BY_LETTER: Readonly<Record<string, Support>> = { y: 'yes', a: 'partial', n: 'no' };

export function clientResults(feature: CaniemailFeature, data: CaniemailIndex): ClientSupport[] {
  const results: ClientSupport[] = [];
  const { family: families, platform: platforms } = data.raw.nicenames;
  for (const [family, byPlatform] of Object.entries(feature.stats)) {
    for (const [platform, byVersion] of Object.entries(byPlatform)) {
      for (const [version, mark] of Object.entries(byVersion)) {
        const { letter, notes } = parseMark(mark);
        results.push({
          family, familyName: families[family] ?? family, platform, platformName: platforms[platform] ?? platform, version,
          support: SUPPORT_BY_LETTER[letter] ?? 'unknown',
          notes: notes.map((n) => feature.notes_by_num?.[n]).filter((n): n is string => n !== undefined),
        });
      }
    }
  }
  return results;
}

function score(clients: readonly ClientSupport[]): Percentages {
  const known = clients.filter((c) => c.support !== 'unknown');
  if (known.length === 0) return { supported: 0, partial: 0, unsupported: 0 };
  const share = (s: Support) => round((known.filter((c) => c.support === s).length / known.length) * 100);
  return { supported: share('yes'), partial: share('partial'), unsupported: share('no') };
}

const round = (n: number) => Math.round(n * 100) / 100;

/**
 * Mailpit's total: the worst feature decides. Each feature's partial and unsupported shares are
 * weighted by how much of the document uses it (its count over the element count); the total's
 * partial and unsupported are the largest of those, and supported is what remains. Clamped to
 * 0–100, where Mailpit would go past 100 when a feature is counted more often than there are
 * elements (units, say).
 */
export function weightedTotal(features: readonly Weighable[], nodes: number): Percentages {
  let partial = 0;
  let unsupported = 0;
  for (const { count, score: s } of features) {
    partial = Math.max(partial, (s.partial * count) / Math.max(nodes, 1));
    unsupported = Math.max(unsupported, (s.unsupported * count) / Math.max(nodes, 1));
  }
  unsupported = Math.min(unsupported, 100);
  partial = Math.min(partial, 100 - unsupported);
  return { supported: round(100 - partial - unsupported), partial: round(partial), unsupported: round(unsupported) };
}

export interface Weighable {
  readonly count: number;
  readonly score: Percentages;
}

/** Mailpit's order: the feature that weighs most on the total first. */
export function byWeight(nodes: number): (a: Weighable & { slug: string }, b: Weighable & { slug: string }) => number {
  const weight = (f: Weighable) => ((f.score.partial + f.score.unsupported) * f.count) / Math.max(nodes, 1);
  return (a, b) => weight(b) - weight(a) || a.slug.localeCompare(b.slug);
}

/** Kotak's answer (the schema HtmlCheckReport in src/api/schemas.ts). */
export function toHtmlReport(check: HtmlCheck): HtmlCheckReport {
  const { scan, data } = check;
  const features: FeatureReport[] = [];
  for (const [slug, finding] of scan.findings) {
    const feature = data.bySlug.get(slug);
    if (!feature) {
      features.push({
        slug, title: '<script> element', category: 'html', description: 'JavaScript is not supported in any email client.', url: '',
        count: finding.count, first: finding.first, score: { supported: 0, partial: 0, unsupported: 100 }, clients: [],
      });
      continue;
    }
    const clients = clientResults(feature, data);
    features.push({
      slug, title: feature.title, category: feature.category, description: feature.description ?? '', url: feature.url,
      count: finding.count, first: finding.first, score: score(clients), clients,
    });
  }
  features.sort(byWeight(scan.nodes));
  return {
    hasHtml: true,
    data: dataVersion(data),
    nodes: scan.nodes,
    tests: testCount(data),
    total: weightedTotal(features, scan.nodes),
    features,
  };
}

/** The answer for a message without an HTML part: nothing to check, and it says so. */
export async function noHtmlReport(): Promise<HtmlCheckReport> {
  const data = await loadCaniemail();
  return { hasHtml: false, data: dataVersion(data), nodes: 0, tests: 0, total: { supported: 100, partial: 0, unsupported: 0 }, features: [] };
}

function dataVersion(data: CaniemailIndex): HtmlCheckReport['data'] {
  return { source: SOURCE, updated: data.date, apiVersion: data.raw.api_version };
}
