/**
 * Tags on the selected messages, in bulk: a tag name (completed from the tags that exist, with a
 * <datalist>) added to or removed from every selected message (POST /api/messages/tags), each
 * message keeping its other tags. The rows change when the server's message:tagged frames arrive.
 */
import { useState } from 'preact/hooks';
import { changeTags } from './api.js';

interface Props {
  readonly selectedIds: readonly string[];
  /** The tags that exist in the list's mailboxes, for completion. */
  readonly tagNames: readonly string[];
}

const DATALIST_ID = 'bulk-tag-names';

export function BulkTags({ selectedIds, tagNames }: Props) {
  const [name, setName] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const tag = name.trim();
  const disabled = busy || selectedIds.length === 0 || tag === '';

  async function apply(add: boolean) {
    setBusy(true);
    setError(null);
    try {
      await changeTags(selectedIds, add ? [tag] : [], add ? [] : [tag]);
      setName('');
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <span class="bulk-tags" role="group" aria-label="Tags of the selected messages">
      <input
        type="text"
        list={DATALIST_ID}
        aria-label="Tag for the selected messages"
        placeholder="Tag…"
        maxLength={100}
        value={name}
        disabled={selectedIds.length === 0}
        onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && !disabled) {
            e.preventDefault();
            void apply(true);
          }
        }}
      />
      <datalist id={DATALIST_ID}>
        {tagNames.map((existing) => (
          <option key={existing} value={existing} />
        ))}
      </datalist>
      <button type="button" disabled={disabled} onClick={() => void apply(true)}>Add tag</button>
      <button type="button" disabled={disabled} onClick={() => void apply(false)}>Remove tag</button>
      {error && (
        <span class="error" role="alert">
          Could not change tags: {error}
        </span>
      )}
    </span>
  );
}
