/**
 * A response body written piece by piece as a generator yields it, so an answer far larger than
 * any one piece never exists whole in memory. Pieces are sent in batches of about BATCH_CHARS;
 * the next batch is asked for only when the client has taken the last one (the Node adapter waits
 * for 'drain'), so a slow reader holds the generator instead of filling memory. A client that goes
 * away ends the generator (its `finally` blocks run).
 */

const BATCH_CHARS = 64 * 1024;

function textStream(pieces: Iterable<string> | AsyncIterable<string>): ReadableStream<Uint8Array> {
  const iterator = Symbol.asyncIterator in pieces ? pieces[Symbol.asyncIterator]() : pieces[Symbol.iterator]();
  const encoder = new TextEncoder();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let batch = '';
        while (batch.length < BATCH_CHARS) {
          const next = await iterator.next();
          if (next.done) {
            if (batch !== '') controller.enqueue(encoder.encode(batch));
            controller.close();
            return;
          }
          batch += next.value;
        }
        controller.enqueue(encoder.encode(batch));
      },
      async cancel() {
        await iterator.return?.();
      },
    },
    // Nothing is produced ahead of the reader.
    { highWaterMark: 0 },
  );
}

export function jsonStreamResponse(pieces: Iterable<string> | AsyncIterable<string>): Response {
  return new Response(textStream(pieces), { headers: { 'Content-Type': 'application/json; charset=UTF-8' } });
}
