/**
 * The Checks tab of the message view: the four checks of `GET api/messages/:id/checks/…` (HTML
 * compatibility, links, spam score, deliverability), each run only when asked (they cost the
 * server time and, for links and deliverability, network), with a progress state, a one-line
 * verdict coloured green / amber / red, and the details one click away.
 *
 * Everything shown comes from the server's JSON and is inserted as text. A URL is a link only when
 * it is http(s) or mailto (a link check lists the message's own URLs, `javascript:` ones too), and
 * opens in a new tab with no referrer.
 */
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { ApiError, getCheck, type DeliverabilityReport, type HtmlCheck, type LinkCheck, type SpamCheck } from './api.js';
import { isSafeLink } from './links.js';

type Verdict = 'good' | 'warn' | 'bad' | 'info';

interface Props {
  readonly id: string;
}

export function ChecksPanel({ id }: Props) {
  return (
    <div class="checks">
      <CheckCard<HtmlCheck> title="HTML compatibility" name="html" id={id} summary={htmlSummary} details={(r) => <HtmlDetails result={r} />} />
      <LinkCheckCard id={id} />
      <CheckCard<SpamCheck> title="Spam score" name="spam" id={id} summary={spamSummary} details={(r) => <SpamDetails result={r} />} />
      <CheckCard<DeliverabilityReport>
        title="Deliverability"
        name="deliverability"
        id={id}
        summary={deliverabilitySummary}
        details={(r) => <DeliverabilityDetails result={r} />}
      />
    </div>
  );
}

type State<T> = { kind: 'idle' } | { kind: 'running' } | { kind: 'done'; result: T } | { kind: 'failed'; message: string };

interface CardProps<T> {
  readonly title: string;
  readonly name: string;
  readonly id: string;
  readonly summary: (result: T) => [Verdict, string];
  readonly details: (result: T) => ComponentChildren;
  /** Query parameters of the check (e.g. `follow`). */
  readonly params?: Record<string, string>;
  /** Controls shown beside the Run button. */
  readonly options?: ComponentChildren;
}

function CheckCard<T>({ title, name, id, summary, details, params, options }: CardProps<T>) {
  const [state, setState] = useState<State<T>>({ kind: 'idle' });
  const headingId = `check-${name}`;

  async function run() {
    setState({ kind: 'running' });
    try {
      setState({ kind: 'done', result: await getCheck<T>(id, name, params ?? {}) });
    } catch (err) {
      setState({ kind: 'failed', message: err instanceof ApiError ? err.message : String(err) });
    }
  }

  const verdict = state.kind === 'done' ? summary(state.result) : null;
  return (
    <section class="check-card" aria-labelledby={headingId} aria-busy={state.kind === 'running'}>
      <header>
        <h2 id={headingId}>{title}</h2>
        {options}
        <button type="button" onClick={() => void run()} disabled={state.kind === 'running'}>
          {state.kind === 'idle' ? 'Run' : state.kind === 'running' ? 'Checking…' : 'Run again'}
        </button>
      </header>
      {state.kind === 'running' && (
        <p class="muted" role="status">
          Checking…
        </p>
      )}
      {state.kind === 'failed' && (
        <p class="error" role="alert">
          {state.message}
        </p>
      )}
      {verdict && (
        <>
          <p class={`verdict verdict-${verdict[0]}`} role="status">
            {verdict[1]}
          </p>
          <details>
            <summary>Details</summary>
            {state.kind === 'done' && details(state.result)}
          </details>
        </>
      )}
    </section>
  );
}

function LinkCheckCard({ id }: Props) {
  const [follow, setFollow] = useState(false);
  return (
    <CheckCard<LinkCheck>
      title="Links"
      name="links"
      id={id}
      params={follow ? { follow: 'true' } : {}}
      summary={linkSummary}
      details={(r) => <LinkDetails result={r} />}
      options={
        <label class="check-option">
          <input type="checkbox" checked={follow} onChange={(e) => setFollow((e.currentTarget as HTMLInputElement).checked)} /> Follow redirects
        </label>
      }
    />
  );
}

function ExternalLink({ url, children }: { url: string; children: ComponentChildren }) {
  if (!url || !isSafeLink(url)) return <code>{children}</code>;
  return (
    <a href={url} target="_blank" rel="noopener noreferrer">
      {children}
    </a>
  );
}

const percent = (value: number): string => `${Math.round(value)}%`;

// HTML compatibility

function htmlSummary(result: HtmlCheck): [Verdict, string] {
  if (!result.hasHtml) return ['info', 'This message has no HTML part: nothing to check.'];
  const { supported, partial, unsupported } = result.total;
  const verdict: Verdict = unsupported >= 10 ? 'bad' : unsupported > 0 || partial >= 10 ? 'warn' : 'good';
  return [verdict, `Supported ${percent(supported)} · partial ${percent(partial)} · not supported ${percent(unsupported)} (${result.features.length} features, caniemail.com data of ${result.data.updated})`];
}

type Support = HtmlCheck['features'][number]['clients'][number]['support'];

/** One cell of the grid: how a client family supports a feature over its platforms and versions. */
function familySupport(supports: readonly Support[]): { mark: string; verdict: Verdict; label: string } {
  const known = supports.filter((s) => s !== 'unknown');
  if (known.length === 0) return { mark: '?', verdict: 'info', label: 'unknown' };
  if (known.every((s) => s === 'yes')) return { mark: '✓', verdict: 'good', label: 'supported' };
  if (known.every((s) => s === 'no')) return { mark: '✗', verdict: 'bad', label: 'not supported' };
  return { mark: '~', verdict: 'warn', label: 'partly supported' };
}

function HtmlDetails({ result }: { result: HtmlCheck }) {
  if (result.features.length === 0) return <p class="muted">No feature of the HTML is listed by caniemail.com.</p>;
  const families = [...new Map(result.features.flatMap((f) => f.clients.map((c) => [c.family, c.familyName] as const))).entries()];
  return (
    <div class="check-grid-wrap">
      <table class="check-grid">
        <caption class="muted">
          {result.nodes} elements, {result.tests} features tested. ✓ supported, ~ partly or on some versions, ✗ not supported; hover a cell for the notes.
        </caption>
        <thead>
          <tr>
            <th scope="col">Feature</th>
            <th scope="col">Uses</th>
            {families.map(([family, name]) => (
              <th scope="col" key={family}>
                {name}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {result.features.map((feature) => (
            <tr key={feature.slug}>
              <th scope="row">
                <ExternalLink url={feature.url}>{feature.title}</ExternalLink>
                <span class="muted"> line {feature.first.line}</span>
              </th>
              <td>{feature.count}</td>
              {families.map(([family, name]) => {
                const clients = feature.clients.filter((c) => c.family === family);
                const cell = familySupport(clients.map((c) => c.support));
                const notes = [...new Set(clients.flatMap((c) => c.notes))].join(' ');
                return (
                  <td key={family} class={`verdict-${cell.verdict}`} title={`${name}: ${cell.label}${notes ? `. ${notes}` : ''}`}>
                    {clients.length === 0 ? '' : cell.mark}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

// Links

function linkSummary(result: LinkCheck): [Verdict, string] {
  if (result.found === 0) return ['info', 'No links or images in this message.'];
  const omitted = result.omitted > 0 ? ` (${result.omitted} past the first 100 not checked)` : '';
  if (result.errors === 0) return ['good', `All ${result.checked} links answered${omitted}.`];
  return ['bad', `${result.errors} of ${result.links.length} links have a problem${omitted}.`];
}

const LINK_VERDICT: Record<LinkCheck['links'][number]['outcome'], Verdict> = {
  ok: 'good',
  broken: 'bad',
  'redirect-limit': 'bad',
  refused: 'warn',
  failed: 'bad',
  timeout: 'bad',
  'not-checked': 'info',
};

function LinkDetails({ result }: { result: LinkCheck }) {
  return (
    <ul class="check-list">
      {result.links.map((link) => (
        <li key={link.url}>
          <span class={`badge verdict-${LINK_VERDICT[link.outcome]}`}>{link.status ?? link.outcome}</span>{' '}
          <ExternalLink url={link.url}>{link.url}</ExternalLink>{' '}
          <span class="muted">
            {link.kind}
            {link.reason ? ` · ${link.reason}` : link.statusText ? ` · ${link.statusText}` : ''}
          </span>
          {link.hops.length > 1 && (
            <ol class="hops">
              {link.hops.map((hop, index) => (
                <li key={index}>
                  {hop.method} {hop.url} → {hop.status}
                  {hop.location ? ` → ${hop.location}` : ''}
                </li>
              ))}
            </ol>
          )}
        </li>
      ))}
    </ul>
  );
}

// Spam

function spamSummary(result: SpamCheck): [Verdict, string] {
  const score = `${result.score.toFixed(1)} of ${result.threshold.toFixed(1)}`;
  if (result.isSpam) return ['bad', `Spam: scored ${score} (SpamAssassin)`];
  return [result.score >= result.threshold / 2 ? 'warn' : 'good', `Not spam: scored ${score} (SpamAssassin)${result.truncated ? `, first ${result.checkedBytes} bytes` : ''}`];
}

function SpamDetails({ result }: { result: SpamCheck }) {
  if (result.rules.length === 0) return <p class="muted">No rule hit.</p>;
  return (
    <table class="check-table">
      <thead>
        <tr>
          <th scope="col">Points</th>
          <th scope="col">Rule</th>
          <th scope="col">What it means</th>
        </tr>
      </thead>
      <tbody>
        {result.rules.map((rule) => (
          <tr key={rule.name}>
            <td class={rule.score > 0 ? 'verdict-bad' : 'verdict-good'}>{rule.score.toFixed(1)}</td>
            <td>{rule.name}</td>
            <td>{rule.description}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

// Deliverability

const RULE_VERDICT: Record<DeliverabilityReport['rules'][number]['result'], Verdict> = { pass: 'good', fail: 'bad', not_applicable: 'info' };

function deliverabilitySummary(result: DeliverabilityReport): [Verdict, string] {
  const failed = result.rules.filter((r) => r.result === 'fail');
  const passed = result.rules.filter((r) => r.result === 'pass');
  if (failed.length === 0) return ['good', `Meets the ${passed.length} sender rules that apply to it.`];
  return ['bad', `Fails ${failed.length} of ${failed.length + passed.length} sender rules: ${failed.map((r) => r.title).join(', ')}.`];
}

function DeliverabilityDetails({ result }: { result: DeliverabilityReport }) {
  return (
    <>
      <ul class="check-list">
        {result.rules.map((rule) => (
          <li key={rule.id}>
            <span class={`badge verdict-${RULE_VERDICT[rule.result]}`}>{rule.result === 'not_applicable' ? 'n/a' : rule.result}</span> {rule.title}:{' '}
            <span class="muted">{rule.reason}</span>{' '}
            <ExternalLink url={rule.source}>source</ExternalLink>
          </li>
        ))}
      </ul>
      <h3>DKIM signatures</h3>
      {result.dkim.signatures.length === 0 ? (
        <p class="muted">None.</p>
      ) : (
        <ul class="check-list">
          {result.dkim.signatures.map((sig, index) => (
            <li key={index}>
              <span class={`badge verdict-${sig.result === 'pass' ? 'good' : 'bad'}`}>{sig.result}</span> d={sig.domain} s={sig.selector} ({sig.algorithm})
              {sig.reason ? <span class="muted"> · {sig.reason}</span> : null}
              <span class="muted"> · {sig.alignment.relaxed ? 'aligned with From' : 'not aligned with From'}</span>
            </li>
          ))}
        </ul>
      )}
      <h3>DMARC</h3>
      <p>{result.dmarc === null ? 'No From domain.' : result.dmarc.result === 'found' ? `${result.dmarc.domain}: ${result.dmarc.record}` : `${result.dmarc.domain}: ${result.dmarc.reason}`}</p>
    </>
  );
}
