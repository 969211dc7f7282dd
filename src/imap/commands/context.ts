/**
 * What a command handler is given and gives back. Handlers send untagged responses through
 * `send` (which waits for the socket to drain, so a large FETCH never piles up in memory) and
 * return the tagged status; a refusal is thrown as a CommandFailure.
 */
import type { Logger } from 'pino';
import type { FolderAccess } from '../../access/folder-types.js';
import type { MailboxView } from '../mailbox-view.js';
import type { Chunk } from '../wire/encode.js';
import type { ImapValue } from '../wire/values.js';

export interface Command {
  readonly tag: string;
  /** Upper case, without `UID`. */
  readonly name: string;
  readonly uid: boolean;
  readonly args: readonly ImapValue[];
}

export interface Reply {
  readonly status: 'OK' | 'NO' | 'BAD';
  /** A response code, without brackets: `READ-WRITE`, `COPYUID 1 2 3`. */
  readonly code?: string;
  readonly text: string;
}

export type Send = (chunks: readonly Chunk[]) => Promise<void>;

export interface AuthenticatedContext {
  readonly access: FolderAccess;
  readonly send: Send;
  readonly log: Logger;
  /** Messages a view opens with (--imap-folder-size). */
  readonly folderSize: number;
}

export interface SelectedContext extends AuthenticatedContext {
  readonly view: MailboxView;
}

export class CommandFailure extends Error {
  readonly status: 'NO' | 'BAD';
  readonly code: string | undefined;

  constructor(status: 'NO' | 'BAD', text: string, code?: string) {
    super(text);
    this.name = 'CommandFailure';
    this.status = status;
    this.code = code;
  }
}

export const ok = (text: string, code?: string): Reply => (code === undefined ? { status: 'OK', text } : { status: 'OK', text, code });
