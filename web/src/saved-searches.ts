/**
 * Saved searches: search queries the user keeps in the sidebar, in this browser's localStorage
 * (they are a preference of the person, not data of the server). Every tab sees changes made in
 * another (the storage event).
 */
import { useCallback, useEffect, useState } from 'preact/hooks';

const STORAGE_KEY = 'kotak.savedSearches';

function load(): string[] {
  try {
    const stored: unknown = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? '[]');
    return Array.isArray(stored) ? stored.filter((q): q is string => typeof q === 'string' && q.trim() !== '') : [];
  } catch {
    return []; // Unreadable or refused storage: nothing saved.
  }
}

function store(queries: readonly string[]): void {
  try {
    localStorage.setItem(STORAGE_KEY, JSON.stringify(queries));
  } catch {
    // Not remembered beyond this page.
  }
}

export interface SavedSearches {
  readonly queries: readonly string[];
  readonly save: (query: string) => void;
  readonly remove: (query: string) => void;
}

export function useSavedSearches(): SavedSearches {
  const [queries, setQueries] = useState<readonly string[]>(load);
  useEffect(() => {
    const onStorage = (event: StorageEvent) => {
      if (event.key === STORAGE_KEY) setQueries(load());
    };
    window.addEventListener('storage', onStorage);
    return () => window.removeEventListener('storage', onStorage);
  }, []);
  const save = useCallback((query: string) => {
    const next = [...load().filter((q) => q !== query), query];
    store(next);
    setQueries(next);
  }, []);
  const remove = useCallback((query: string) => {
    const next = load().filter((q) => q !== query);
    store(next);
    setQueries(next);
  }, []);
  return { queries, save, remove };
}
