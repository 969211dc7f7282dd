/**
 * Hands an untagged FETCH response to imapflow's own reading path: its ImapStream (which frames
 * lines and literals as bytes off the socket) and its response parser, then its ENVELOPE and
 * BODYSTRUCTURE readers (lib/tools.js parseEnvelope / parseBodystructure), as ImapFlow does with
 * what a server sends.
 */
import { ImapStream } from 'imapflow/lib/handler/imap-stream.js';
import parser from 'imapflow/lib/handler/imap-parser.js';
import { parseBodystructure, parseEnvelope } from 'imapflow/lib/tools.js';

const silent = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, fatal() {}, child: () => silent };

interface StreamItem {
  readonly payload: Buffer;
  readonly literals: Buffer[];
  next(): void;
}

/** One response line (with its literals) as imapflow reads it off the wire. */
async function readResponse(response: Buffer): Promise<{ attributes: unknown[] }> {
  const stream = new ImapStream({ logger: silent });
  const item = await new Promise<StreamItem>((resolve, reject) => {
    stream.once('data', (data: StreamItem) => resolve(data));
    stream.once('error', reject);
    stream.write(Buffer.concat([response, Buffer.from('\r\n')]));
  });
  item.next();
  stream.destroy();
  return (await parser(item.payload, { literals: item.literals })) as { attributes: unknown[] };
}

export type ImapflowEnvelope = ReturnType<typeof parseEnvelope>;
export type ImapflowBodyStructure = ReturnType<typeof parseBodystructure>;

/** `* 1 FETCH (ENVELOPE e BODYSTRUCTURE b)` read by imapflow. */
export async function imapflowReads(envelope: Buffer, bodyStructure: Buffer): Promise<{ envelope: ImapflowEnvelope; bodyStructure: ImapflowBodyStructure }> {
  const line = Buffer.concat([Buffer.from('* 1 FETCH (ENVELOPE '), envelope, Buffer.from(' BODYSTRUCTURE '), bodyStructure, Buffer.from(')')]);
  const { attributes } = await readResponse(line);
  const items = attributes[1] as unknown[];
  return {
    envelope: parseEnvelope(items[1] as Parameters<typeof parseEnvelope>[0]),
    bodyStructure: parseBodystructure(items[3] as Parameters<typeof parseBodystructure>[0]),
  };
}
