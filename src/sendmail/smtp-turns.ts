/**
 * Counts, in an SMTP session passed through -bs, how many replies the server still owes the
 * client. Pure. The proxy needs it at the end of the caller's input: a caller may write a whole
 * session and close its end at once (`cat session.txt | sendmail -bs`), and half-closing the
 * connection then would make the server drop the commands it has not answered yet, the last
 * message included. So the proxy waits for every reply first, as sendmail -bs answers every
 * command it has read before it exits.
 *
 * Each command line is owed one reply (a multi-line reply counts once), the greeting too; after
 * DATA the lines are message data until the lone ".", which is owed the reply for the message.
 * After STARTTLS the bytes are TLS and cannot be read: counting stops (`readable` is false).
 */

const LF = 0x0a;

export class SmtpTurns {
  /** The greeting is owed before anything is sent. */
  #owed = 1;
  #inData = false;
  #readable = true;
  #clientLine = '';
  #serverLine = '';

  /** Replies the server has yet to send for what the client sent so far (never below 0). */
  get owed(): number {
    return this.#owed;
  }

  /** Whether the client's input stopped inside message data (the transaction is then abandoned). */
  get inData(): boolean {
    return this.#inData;
  }

  /** False once the session switched to TLS: nothing more can be counted. */
  get readable(): boolean {
    return this.#readable;
  }

  client(chunk: Buffer): void {
    if (!this.#readable) return;
    this.#clientLine = eachLine(this.#clientLine, chunk, (line) => {
      if (this.#inData) {
        if (line === '.') {
          this.#inData = false;
          this.#owed++;
        }
        return;
      }
      this.#owed++;
      const verb = line.trim().toUpperCase();
      if (verb === 'DATA') this.#inData = true;
      else if (verb === 'STARTTLS') this.#readable = false;
    });
  }

  server(chunk: Buffer): void {
    if (!this.#readable) return;
    this.#serverLine = eachLine(this.#serverLine, chunk, (line) => {
      // "250-…" continues a reply, "250 …" or "250" ends it.
      if (/^\d{3}(?: |$)/.test(line)) this.#owed = Math.max(0, this.#owed - 1);
    });
  }
}

/** Calls `onLine` for each complete line (without CRLF or LF); returns the incomplete rest. */
function eachLine(pending: string, chunk: Buffer, onLine: (line: string) => void): string {
  let start = 0;
  let text = pending;
  for (let lf = chunk.indexOf(LF); lf !== -1; lf = chunk.indexOf(LF, start)) {
    // latin1: one character per byte, and only ASCII commands and replies are looked at.
    text += chunk.toString('latin1', start, lf);
    onLine(text.endsWith('\r') ? text.slice(0, -1) : text);
    text = '';
    start = lf + 1;
  }
  // Only the start of a line matters ("." or a reply code); a long data line is not kept whole.
  return (text + chunk.toString('latin1', start)).slice(0, 512);
}
