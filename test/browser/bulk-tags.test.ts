/**
 * Tags in bulk on the selected messages (issue 18): one tag added to several rows and removed
 * again, with the name completed from the tags that exist, the rows' chips following the server's
 * frames, in this tab and in another; a `tag:` search follows too.
 */
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/browser.js';
import { getJson, transport } from '../helpers/kotak.js';
import { kotakInChromium } from '../helpers/kotak-in-chromium.js';

const env = kotakInChromium();
const ids = new Map<string, string>();

beforeAll(async () => {
  for (const subject of ['Tag one', 'Tag two', 'Tag three']) {
    const info = await transport(env.kotak).sendMail({ from: 'a@example.test', to: 'b@example.test', subject, text: subject });
    ids.set(subject, /queued as (\S+)/.exec(info.response)![1]!);
  }
  // A tag that already exists, for completion.
  await getJson(env.kotak, `/api/messages/${ids.get('Tag three')}/tags`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tags: ['release-42'] }) });
});

const rows = (page: Page) => page.getByRole('list', { name: 'Messages' }).getByRole('listitem');
const row = (page: Page, subject: string) => rows(page).filter({ hasText: subject });
const chips = (page: Page, subject: string) => row(page, subject).locator('.tag').allTextContents();
const tagBox = (page: Page) => page.getByRole('combobox', { name: 'Tag for the selected messages' });

async function openInbox(path = '/'): Promise<Page> {
  const page = await env.browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(`${env.kotak.url}${path}`);
  await page.getByRole('status', { name: /Live updates: Live/ }).waitFor();
  await eventually(() => rows(page).count()).toBe(3);
  return page;
}

describe('bulk tags', () => {
  it('adds a tag to the selected messages and removes it, the rows following in every tab', async () => {
    const [page, other] = [await openInbox(), await openInbox()];
    expect(await chips(page, 'Tag three')).toEqual(['release-42']);
    expect(await tagBox(page).isDisabled()).toBe(true);

    await row(page, 'Tag one').getByRole('checkbox').check();
    await row(page, 'Tag two').getByRole('checkbox').check();
    // Completion offers the tags that exist (a <datalist> the box names).
    const listId = (await tagBox(page).getAttribute('list'))!;
    expect(await page.locator(`datalist#${listId} option`).evaluateAll((options) => options.map((o) => (o as unknown as { value: string }).value))).toEqual(['release-42']);

    await tagBox(page).fill('release-42');
    await page.getByRole('button', { name: 'Add tag' }).click();
    await eventually(() => chips(page, 'Tag one')).toEqual(['release-42']);
    await eventually(() => chips(page, 'Tag two')).toEqual(['release-42']);
    await eventually(() => chips(other, 'Tag two')).toEqual(['release-42']);
    expect(await tagBox(page).inputValue()).toBe('');

    // A second tag by Enter; each message keeps the tags it had.
    await tagBox(page).fill('urgent');
    await tagBox(page).press('Enter');
    await eventually(() => chips(page, 'Tag one')).toEqual(['release-42', 'urgent']);
    expect(await chips(page, 'Tag three')).toEqual(['release-42']);
    const { body } = await getJson(env.kotak, `/api/messages/${ids.get('Tag two')}`);
    expect([...body.tags].sort()).toEqual(['release-42', 'urgent']);

    // The search completes the new tag, and a tag: search lists exactly the tagged rows.
    const search = page.getByRole('combobox', { name: 'Search messages' });
    await search.click();
    await page.keyboard.type('tag:u');
    await page.getByRole('listbox', { name: 'Search suggestions' }).getByRole('option', { name: /^tag:urgent/ }).click();
    await eventually(() => rows(page).count()).toBe(2);
    // A new list starts with nothing selected: select its rows, then untag them.
    await tagBox(page).waitFor({ state: 'visible' });
    expect(await tagBox(page).isDisabled()).toBe(true);
    await page.getByRole('checkbox', { name: 'Select all listed' }).check();
    await page.getByText('2 selected').waitFor();

    await tagBox(page).fill('urgent');
    await page.getByRole('button', { name: 'Remove tag' }).click();
    // Untagged, the rows no longer match `tag:urgent`.
    await eventually(() => rows(page).count()).toBe(0);
    await eventually(() => chips(other, 'Tag one')).toEqual(['release-42']);
    await page.close();
    await other.close();
  });

  it('says why a tag name is refused', async () => {
    const page = await openInbox();
    await row(page, 'Tag one').getByRole('checkbox').check();
    await tagBox(page).fill('%%%');
    await page.getByRole('button', { name: 'Add tag' }).click();
    await page.getByRole('alert').filter({ hasText: 'Could not change tags' }).waitFor();
    await page.close();
  });
});
