/**
 * The vendored caniemail.com data (./data/caniemail.json, see ./data/SOURCES.md): read once, on the
 * first HTML check, not when the app starts (640 KB of JSON most runs never need).
 */
import { readFile } from 'node:fs/promises';

/** A support mark as caniemail writes it: 'y', 'n', 'a', 'u', optionally followed by note numbers ('a #1 #2'). */
export type SupportMark = string;

/** One feature of caniemail.com: `stats` is family → platform → version → mark. */
export interface CaniemailFeature {
  readonly slug: string;
  readonly title: string;
  readonly description: string | null;
  readonly url: string;
  readonly category: string;
  readonly tags: readonly string[];
  readonly keywords: string | null;
  readonly last_test_date: string;
  readonly stats: Readonly<Record<string, Readonly<Record<string, Readonly<Record<string, SupportMark>>>>>>;
  readonly notes: string | null;
  readonly notes_by_num: Readonly<Record<string, string>> | null;
}

export interface CaniemailData {
  readonly api_version: string;
  readonly last_update_date: string;
  readonly nicenames: {
    readonly family: Readonly<Record<string, string>>;
    readonly platform: Readonly<Record<string, string>>;
  };
  readonly data: readonly CaniemailFeature[];
}

/** The data with its features by slug. */
export interface CaniemailIndex {
  readonly raw: CaniemailData;
  readonly bySlug: ReadonlyMap<string, CaniemailFeature>;
  /** The data's date, `YYYY-MM-DD`. */
  readonly date: string;
}

const DATA_FILE = new URL('./data/caniemail.json', import.meta.url);

let loading: Promise<CaniemailIndex> | null = null;

export function loadCaniemail(): Promise<CaniemailIndex> {
  loading ??= readFile(DATA_FILE, 'utf8').then(
    (text) => {
      const raw = JSON.parse(text) as CaniemailData;
      return { raw, bySlug: new Map(raw.data.map((f) => [f.slug, f])), date: raw.last_update_date.slice(0, 10) };
    },
    (err: unknown) => {
      // A failed read is not cached: the next check tries again.
      loading = null;
      throw err;
    },
  );
  return loading;
}
