/**
 * axe-core in Chromium, without @axe-core/playwright (it needs Node 22): axe's own source is
 * evaluated in the page (through the DevTools protocol, so the inbox's CSP is not loosened for
 * it), then `axe.run` checks the page against WCAG 2.0/2.1 A and AA.
 */
import axe from 'axe-core';
import type { Page } from 'playwright-core';

const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

/** One violation as a line a failing assertion can show: rule, impact, and where. */
export interface AxeFinding {
  readonly rule: string;
  readonly impact: string;
  readonly help: string;
  readonly targets: readonly string[];
}

/**
 * The serious and critical violations on the page as it is now. The message's own HTML (the
 * sandboxed iframe: no scripts may run in it, and it is the sender's markup, not the inbox's) is
 * left out; everything of the inbox is checked.
 */
export async function seriousViolations(page: Page): Promise<AxeFinding[]> {
  if (!(await page.evaluate('typeof window.axe !== "undefined"'))) await page.evaluate(axe.source);
  const script = `axe.run(document, { runOnly: { type: 'tag', values: ${JSON.stringify(TAGS)} }, resultTypes: ['violations'], iframes: false })
    .then((results) => results.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => ({ rule: v.id, impact: v.impact, help: v.help, targets: v.nodes.slice(0, 5).map((n) => n.target.join(' ') + ' :: ' + (n.failureSummary || '').replace(/\\s+/g, ' ').slice(0, 200)) })))`;
  return (await page.evaluate(script)) as AxeFinding[];
}
