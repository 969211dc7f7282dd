/**
 * The `chaos` fixture: chaos rules for one test, removed after it (only those it added: rules set
 * at start or by other tests stay). A rule goes to the test's mailbox unless `{ global: true }`,
 * so tests running in parallel against one Kotak do not disturb each other; a rule before RCPT
 * (connect, ehlo, auth, mail) knows no mailbox and must be global.
 */
import type { ChaosRule, ChaosRuleHandle, ChaosRuleSpec, KotakClient } from '../client/index.js';

export interface ChaosFixture {
  /** Adds a rule for this test (in its mailbox, or for every mailbox with `global`). */
  add(spec: ChaosRuleSpec, options?: { readonly global?: boolean }): Promise<ChaosRuleHandle>;
  /** The rules this test added and has not removed, with their counters. */
  list(): Promise<ChaosRule[]>;
  /** Removes every rule this test added. */
  removeAll(): Promise<void>;
}

export function createChaosFixture(client: KotakClient, mailbox: string): ChaosFixture {
  const added = new Map<string, ChaosRuleHandle>();
  const scoped = client.mailbox(mailbox).chaos;
  return {
    async add(spec, options = {}) {
      const handle = await (options.global ? client.chaos : scoped).add(spec);
      const tracked: ChaosRuleHandle = {
        id: handle.id,
        rule: handle.rule,
        remove: async () => {
          added.delete(handle.id);
          return handle.remove();
        },
      };
      added.set(handle.id, tracked);
      return tracked;
    },
    async list() {
      return (await client.chaos.list()).filter((rule) => added.has(rule.id));
    },
    async removeAll() {
      await Promise.all([...added.values()].map((handle) => handle.remove()));
    },
  };
}
