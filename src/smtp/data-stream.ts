/**
 * smtp-server's command/DATA stream with a faster DATA scanner. The original walks every byte of
 * the message in JavaScript looking for "<LF>." (about 10 ms per MB on the SMTP thread: the cap
 * on large-message intake). This one finds the same positions with Buffer.indexOf, which is
 * native; everything else, including the terminator and dot-unstuffing rules that protect
 * against SMTP smuggling, is the original's logic, with one fix noted below
 * (test/unit/data-stream.test.ts checks both produce identical output for random messages cut
 * into random chunks, apart from that fix).
 */
import { SMTPStream } from 'smtp-server/lib/smtp-stream.js';

const END_SEQUENCE = Buffer.from('\r\n.\r\n');
const DOT_AFTER_LF = Buffer.from('\n.');
const TERMINATOR_AT_START = Buffer.from('.\r\n');

type Done = Parameters<SMTPStream['_feedDataStream']>[1];

type WriteDone = Parameters<SMTPStream['_write']>[2];

export class FastDataSmtpStream extends SMTPStream {
  /** Sees every chunk the client sends, commands and message alike, before it is parsed. */
  oninput: ((chunk: Buffer) => void) | null = null;

  override _write(chunk: Buffer, encoding: Parameters<SMTPStream['_write']>[1], next: WriteDone): void {
    this.oninput?.(chunk);
    super._write(chunk, encoding, next);
  }

  override _feedDataStream(input: Buffer, done: Done): void {
    const dataStream = this._dataStream!;
    let chunk = input;
    if (this._lastBytes && this._lastBytes.length) {
      chunk = Buffer.concat([this._lastBytes, chunk], this._lastBytes.length + chunk.length);
      this._lastBytes = false;
    }
    let len = chunk.length;
    if (this._atDataStart && len >= 3 && chunk.subarray(0, 3).equals(TERMINATOR_AT_START)) {
      this._endDataMode(false, chunk.subarray(3), done);
      return;
    }
    if (this._atDataStart && len >= 2 && chunk[0] === 0x2e && chunk[1] === 0x2e) {
      chunk = chunk.subarray(1);
      len--;
      this._atDataStart = false;
    }
    // The original checks every i in [2, len - 3] for chunk[i] === '.' && chunk[i - 1] === LF. It
    // never looks at i = 1, so DATA opening with a bare LF and a dot-stuffed line ("\n..") kept
    // its stuffing dot (found by test/adversarial/fuzz.test.ts). At the start of DATA we also look
    // at i = 1; only unstuffing can happen there, since a terminator needs the CRLF before it.
    const firstLf = this._atDataStart ? 0 : 1;
    for (let lf = chunk.indexOf(DOT_AFTER_LF, firstLf); lf >= 0; lf = chunk.indexOf(DOT_AFTER_LF, lf + 1)) {
      const i = lf + 1;
      if (i >= len - 2) break;
      if (i >= 2 && chunk.subarray(i - 2, i + 3).equals(END_SEQUENCE)) {
        const buf = chunk.subarray(0, i);
        this._countDataBytes(buf.length);
        this._endDataMode(buf, chunk.subarray(i + 3), done);
        return;
      }
      if (chunk[i + 1] === 0x2e) {
        const buf = chunk.subarray(0, i);
        this._lastBytes = false;
        this._countDataBytes(buf.length);
        if (dataStream.writable) dataStream.write(buf);
        const rest = chunk.subarray(i + 1);
        setImmediate(() => this._feedDataStream(rest, done));
        return;
      }
    }
    this._lastBytes = chunk.length < 4 ? chunk : chunk.subarray(chunk.length - 4);
    if (this._lastBytes.length >= chunk.length) {
      done();
      return;
    }
    const buf = chunk.subarray(0, chunk.length - this._lastBytes.length);
    this._countDataBytes(buf.length);
    if (!dataStream.writable) {
      done();
      return;
    }
    const handled = dataStream.write(buf);
    if (handled || dataStream.destroyed) {
      done();
      return;
    }
    // A stream that the application destroys never drains, it only closes.
    const onDrain = (): void => {
      dataStream.removeListener('drain', onDrain);
      dataStream.removeListener('close', onDrain);
      done();
    };
    dataStream.once('drain', onDrain);
    dataStream.once('close', onDrain);
  }
}
