/**
 * Tag chips: each tag name always gets the same colour (a hue hashed from the name, without regard
 * to case, as tag names are), in the list, the message and the sidebar alike, light and dark.
 */
import type { ComponentChildren } from 'preact';
import './tags.css';

/** FNV-1a over the lower-cased name, folded to a hue in degrees. */
export function tagHue(name: string): number {
  let hash = 0x811c9dc5;
  for (const char of name.toLowerCase()) {
    hash ^= char.codePointAt(0)!;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % 360;
}

interface Props {
  readonly name: string;
  /** Extra content after the name, e.g. a remove button. */
  readonly children?: ComponentChildren;
}

export function TagChip({ name, children }: Props) {
  // A CSS custom property set through the DOM (not a style attribute in markup): allowed by the CSP.
  return (
    <span class="tag" style={{ '--tag-hue': String(tagHue(name)) }}>
      {name}
      {children}
    </span>
  );
}
