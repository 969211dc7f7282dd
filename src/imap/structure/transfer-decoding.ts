/**
 * Content-Transfer-Encoding undone (RFC 2045 6), for BINARY (RFC 3516). Lenient like the mail
 * readers: base64 ignores characters outside its alphabet; quoted-printable keeps an "=" that
 * starts no valid escape. Linear. Pure.
 */

export type Decoded = { readonly ok: true; readonly bytes: Buffer } | { readonly ok: false };

const IDENTITY = new Set(['', '7bit', '8bit', 'binary']);

const HEX: Int8Array = (() => {
  const table = new Int8Array(256).fill(-1);
  for (let i = 0; i < 10; i++) table[0x30 + i] = i;
  for (let i = 0; i < 6; i++) {
    table[0x41 + i] = 10 + i;
    table[0x61 + i] = 10 + i;
  }
  return table;
})();

export function decodeBase64(body: Buffer): Buffer {
  // Node's decoder skips blanks and line breaks but stops at other strangers; drop them first.
  const text = body.toString('latin1').replace(/[^A-Za-z0-9+/=]+/g, '');
  // Like Python's email and mailparser: an "=" inside the text does not end it.
  const firstPad = text.indexOf('=');
  if (firstPad < 0 || /^=*$/.test(text.slice(firstPad))) return Buffer.from(text, 'base64');
  return Buffer.from(text.replace(/=+/g, ''), 'base64');
}

export function decodeQuotedPrintable(body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(body.length);
  let length = 0;
  let i = 0;
  while (i < body.length) {
    const byte = body[i]!;
    if (byte !== 0x3d) {
      out[length++] = byte;
      i++;
      continue;
    }
    const high = HEX[body[i + 1] ?? 0]!;
    const low = HEX[body[i + 2] ?? 0]!;
    if (i + 2 < body.length && high >= 0 && low >= 0) {
      out[length++] = high * 16 + low;
      i += 3;
      continue;
    }
    // A soft line break: "=" then blanks (added by transport) then the line break, all removed.
    let j = i + 1;
    while (body[j] === 0x20 || body[j] === 0x09) j++;
    if (body[j] === 0x0a) {
      i = j + 1;
      continue;
    }
    if (body[j] === 0x0d && body[j + 1] === 0x0a) {
      i = j + 2;
      continue;
    }
    if (j >= body.length) {
      i = j; // "=" at the very end: a soft break whose line break the part's delimiter took
      continue;
    }
    out[length++] = byte;
    i++;
  }
  return out.subarray(0, length);
}

/** The body with its transfer encoding undone; `{ ok: false }` for an encoding this does not know. */
export function decodeTransfer(encoding: string, body: Buffer): Decoded {
  if (IDENTITY.has(encoding)) return { ok: true, bytes: body };
  if (encoding === 'base64') return { ok: true, bytes: decodeBase64(body) };
  if (encoding === 'quoted-printable') return { ok: true, bytes: decodeQuotedPrintable(body) };
  return { ok: false };
}
