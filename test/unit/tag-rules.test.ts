/**
 * Tags at intake from their four sources (src/mailbox/tag-rules.ts): X-Tags, plus-addressing, the
 * SMTP AUTH user and `QUERY=TAG` rules, decided on the real parser's output; which rules are left
 * for the store's full-text index; and the setting's errors.
 */
import { describe, expect, it } from 'vitest';
import { KotakError } from '../../src/errors.js';
import { summarize } from '../../src/mail/summary.js';
import type { NewMessage } from '../../src/mail/types.js';
import { compileTagSources, NO_TAG_SOURCES, parseTagRule, tagsAnything, tagsOf, type TagSources } from '../../src/mailbox/tag-rules.js';
import { newMessageFromRaw, rawMessage } from '../helpers/new-message.js';

const message = (headers: string[], envelope: Partial<NewMessage['envelope']> = {}) =>
  newMessageFromRaw(rawMessage([...headers, '', 'Your invoice is attached.']), { envelope });

const tags = (sources: TagSources, m: NewMessage) =>
  tagsOf(sources, { summary: summarize(m), headers: m.parsed.ok ? m.parsed.message.headers : [], envelope: m.envelope });

const settings = { ignoreXTags: false, tagsFromPlus: false, tagSmtpUser: false, tagRule: [] as string[] };

describe('tag sources at intake', () => {
  it('reads X-Tags (comma-separated, cleaned, one spelling per tag) unless told to ignore it', async () => {
    const m = await message(['From: a@shop.test', 'To: b@example.test', 'Subject: Hi', 'X-Tags: signup, Welcome ,  ,welcome, <bad>', 'X-Tags: second']);
    expect(tags(compileTagSources(settings), m)).toEqual({ tags: ['signup', 'Welcome', 'bad', 'second'], undecided: [] });
    expect(tags(compileTagSources({ ...settings, ignoreXTags: true }), m).tags).toEqual([]);
  });

  it('takes +tags from envelope recipients and From/To/Cc with --tags-from-plus', async () => {
    const m = await message(['From: app+outbound@shop.test', 'To: qa+signup+eu@example.test', 'Cc: plain@example.test', 'Subject: Hi'], { rcptTo: ['qa+signup+eu@example.test', 'hidden+bcc@example.test'] });
    expect(tags(compileTagSources(settings), m).tags).toEqual([]);
    expect(tags(compileTagSources({ ...settings, tagsFromPlus: true }), m).tags).toEqual(['signup', 'eu', 'bcc', 'outbound']);
  });

  it('tags the SMTP AUTH user with --tag-smtp-user, and nothing for a session without AUTH', async () => {
    const sources = compileTagSources({ ...settings, tagSmtpUser: true });
    expect(tags(sources, await message(['From: a@shop.test', 'Subject: x'], { user: 'ci-runner' })).tags).toEqual(['ci-runner']);
    expect(tags(sources, await message(['From: a@shop.test', 'Subject: x'], { user: null })).tags).toEqual([]);
  });

  it('decides rules the summary can answer, and leaves full-text ones to the store', async () => {
    const sources = compileTagSources({ ...settings, tagRule: ['from:billing@shop.test subject:invoice=Billing', '-subject:invoice=Other', 'attached=FullText', 'subject:"a=b"=Equals'] });
    const m = await message(['From: Billing <billing@shop.test>', 'To: b@example.test', 'Subject: Your Invoice a=b']);
    const found = tags(sources, m);
    expect(found.tags).toEqual(['Billing', 'Equals']);
    expect(found.undecided.map((r) => r.tag)).toEqual(['FullText']);
  });

  it('reads every source together, in order, one spelling per tag', async () => {
    const sources = compileTagSources({ ignoreXTags: false, tagsFromPlus: true, tagSmtpUser: true, tagRule: ['subject:hello=Signup'] });
    const m = await message(['From: a@shop.test', 'To: qa+signup@example.test', 'Subject: hello', 'X-Tags: SIGNUP, header'], { user: 'robot', rcptTo: ['qa+signup@example.test'] });
    expect(tags(sources, m).tags).toEqual(['SIGNUP', 'header', 'robot']);
  });

  it('does no work when no source is on', () => {
    expect(tagsAnything(NO_TAG_SOURCES)).toBe(false);
    expect(tagsAnything(compileTagSources({ ...settings, ignoreXTags: true }))).toBe(false);
    expect(tagsAnything(compileTagSources(settings))).toBe(true);
  });
});

describe('--tag-rule', () => {
  it('splits at the last =, so a query may hold one', () => {
    expect(parseTagRule('subject:"x=y"=Tagged')).toMatchObject({ tag: 'Tagged', query: { terms: [{ kind: 'field', field: 'subject', value: 'x=y' }] } });
  });

  it.each([
    ['no-equals', 'is not QUERY=TAG'],
    ['=Tag', 'is not QUERY=TAG'],
    ['from:a@b.test=', 'the tag after the last ='],
    ['from:a@b.test=<>', 'the tag after the last ='],
    ['  =Tag', 'the query before the last = is empty'],
    ['frm:a@b.test=Tag', 'frm'],
  ])('refuses %j at start with invalid_config naming the flag', (rule, reason) => {
    let error: unknown;
    try {
      compileTagSources({ ...settings, tagRule: [rule] });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(KotakError);
    expect(error).toMatchObject({ code: 'invalid_config', message: expect.stringContaining('--tag-rule') });
    expect((error as Error).message).toContain(reason);
  });
});
