/**
 * An IMAP command's arguments as the wire parser reads them (RFC 3501 section 9), before any
 * command gives them meaning. Shared by the parser and the commands that read their arguments
 * (FETCH items, SEARCH keys, STORE flags).
 */
export type ImapValue =
  /**
   * An atom: a bare word, a number, a sequence set, a flag (`\Seen`), NIL. A fetch item with a
   * section (`BODY.PEEK[HEADER.FIELDS (FROM)]<0.100>`) is one atom with `section` (the values
   * between the brackets, possibly none) and `partial`.
   */
  | {
      readonly kind: 'atom';
      readonly value: string;
      readonly section?: readonly ImapValue[];
      readonly partial?: { readonly start: number; readonly length: number | null };
    }
  /** A quoted string or a literal (`{n}` / `{n+}` / `~{n}`), as bytes. */
  | { readonly kind: 'string'; readonly value: Buffer; readonly literal: boolean }
  /** A parenthesised list. */
  | { readonly kind: 'list'; readonly items: readonly ImapValue[] };
