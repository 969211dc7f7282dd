/**
 * `kotak.chaos`: chaos rules from a test. `add` returns a handle whose `remove()` takes that rule
 * away again (a rule another caller removed already is no error), so a test undoes exactly what
 * it set:
 *
 *   const rule = await kotak.chaos.add('rcpt to=*@bounce.test reply=550:5.1.1:"no such user"');
 *   try { … } finally { await rule.remove(); }
 *
 * A client scoped to a mailbox (`kotak.mailbox('w3')`) gives its rules that mailbox when they
 * name none, and lists and clears only that mailbox's rules.
 */
import type { Http } from './http.js';
import { KotakApiError } from './errors.js';
import type { ChaosRefusalList, ChaosRule, ChaosRuleBody } from './types.js';

/** A rule in --chaos-rule's syntax, or as fields. */
export type ChaosRuleSpec = string | ChaosRuleBody;

export interface ChaosRuleHandle {
  readonly id: string;
  /** The rule as the server took it (normalised, with the seed in use). */
  readonly rule: ChaosRule;
  /** Removes this rule; resolves false when it was gone already. */
  remove(): Promise<boolean>;
}

export class ChaosClient {
  readonly #http: Http;
  readonly #mailbox: string | undefined;

  constructor(http: Http, mailbox?: string) {
    this.#http = http;
    this.#mailbox = mailbox;
  }

  /** Adds a rule (tried after the others). */
  async add(spec: ChaosRuleSpec): Promise<ChaosRuleHandle> {
    const rule = await this.#http.json<ChaosRule>('api/chaos', { method: 'POST', body: this.#body(spec) });
    return { id: rule.id, rule, remove: () => this.remove(rule.id) };
  }

  /** The rules this client may see, in the order they are tried, with their counters. */
  async list(): Promise<ChaosRule[]> {
    const { rules } = await this.#http.json<{ rules: ChaosRule[] }>('api/chaos');
    return this.#mailbox === undefined ? rules : rules.filter((r) => r.match?.mailbox === this.#mailbox);
  }

  /** Removes one rule by id; false when there was none. */
  async remove(id: string): Promise<boolean> {
    try {
      await this.#http.request(`api/chaos/${encodeURIComponent(id)}`, { method: 'DELETE' });
      return true;
    } catch (err) {
      if (err instanceof KotakApiError && err.status === 404) return false;
      throw err;
    }
  }

  /** Removes every rule this client may see (of its mailbox, when it has one); returns how many. */
  async clear(): Promise<number> {
    if (this.#mailbox === undefined) return (await this.#http.json<{ deleted: number }>('api/chaos', { method: 'DELETE' })).deleted;
    let removed = 0;
    for (const rule of await this.list()) if (await this.remove(rule.id)) removed++;
    return removed;
  }

  /** Messages chaos refused (of this client's mailbox, when it has one), newest first. */
  refusals(): Promise<ChaosRefusalList> {
    return this.#http.json<ChaosRefusalList>('api/chaos/refusals', { params: { mailbox: this.#mailbox } });
  }

  #body(spec: ChaosRuleSpec): ChaosRuleBody {
    if (this.#mailbox === undefined) return typeof spec === 'string' ? { spec } : spec;
    // A rule as text names its mailbox in the text; one given as fields gets this client's.
    if (typeof spec === 'string') return { spec: /(^|\s)mailbox=/.test(spec) ? spec : `${spec} mailbox=${this.#mailbox}` };
    return { ...spec, match: { mailbox: this.#mailbox, ...spec.match } };
  }
}
