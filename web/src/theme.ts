/** Light, dark, or whatever the system prefers; the choice is remembered in this browser. */
import { useLayoutEffect, useState } from 'preact/hooks';

export type ThemeChoice = 'system' | 'light' | 'dark';

const KEY = 'kotak.theme';
const ORDER: readonly ThemeChoice[] = ['system', 'light', 'dark'];

export function loadTheme(): ThemeChoice {
  try {
    const saved = localStorage.getItem(KEY);
    return ORDER.includes(saved as ThemeChoice) ? (saved as ThemeChoice) : 'system';
  } catch {
    return 'system';
  }
}

export function applyTheme(choice: ThemeChoice): void {
  if (choice === 'system') delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = choice;
  try {
    localStorage.setItem(KEY, choice);
  } catch {
    // Storage can be off (private mode); the choice then lasts for this page only.
  }
}

export function nextTheme(choice: ThemeChoice): ThemeChoice {
  return ORDER[(ORDER.indexOf(choice) + 1) % ORDER.length]!;
}

/**
 * The theme choice as state, applied to <html> before the browser paints: the saved choice is
 * applied while the first render runs (a passive effect would run after the first paint, and a
 * dark choice would flash light first), and every change before the frame that shows it.
 */
export function useTheme(): [ThemeChoice, (choice: ThemeChoice) => void] {
  const [theme, setTheme] = useState<ThemeChoice>(() => {
    const saved = loadTheme();
    applyTheme(saved);
    return saved;
  });
  useLayoutEffect(() => applyTheme(theme), [theme]);
  return [theme, setTheme];
}
