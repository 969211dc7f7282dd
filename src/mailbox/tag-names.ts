/** Tag names: Mailpit's rule, shared by its routes and Kotak's own so that a tag set through one reads the same through the other. */

/** Mailpit's rule: letters, digits, space, `-`, `_`, `.` and `@`, 1 to 100 of them. */
const MAX_TAG_LENGTH = 100;
const INVALID_TAG_CHARS = /[^a-zA-Z0-9 \-_.@]/g;

/** The tag as Mailpit stores it (other characters silently dropped), or null when nothing usable is left. */
export function cleanTag(name: string): string | null {
  const cleaned = name.replace(INVALID_TAG_CHARS, '').replace(/\s+/g, ' ').trim();
  return cleaned.length > 0 && cleaned.length <= MAX_TAG_LENGTH ? cleaned : null;
}

/** Cleaned, unusable ones dropped, and unique without regard to case (the first spelling wins). */
export function cleanTags(names: readonly string[]): string[] {
  const seen = new Set<string>();
  const tags: string[] = [];
  for (const name of names) {
    const tag = cleanTag(name);
    if (tag === null || seen.has(tag.toLowerCase())) continue;
    seen.add(tag.toLowerCase());
    tags.push(tag);
  }
  return tags;
}
