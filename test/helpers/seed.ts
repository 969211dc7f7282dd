/** Fills a Kotak with many messages quickly: several SMTP connections, each pipelining its envelope. */
import { dataPayload, SmtpTestClient } from './smtp-client.js';

export async function seedMessages(port: number, count: number, make: (index: number) => Buffer, connections = 8): Promise<void> {
  let next = 0;
  async function worker(): Promise<void> {
    const client = await SmtpTestClient.connect(port);
    try {
      await client.hello();
      for (let index = next++; index < count; index = next++) {
        client.write('MAIL FROM:<seed@example.com>\r\nRCPT TO:<inbox@example.com>\r\nDATA\r\n');
        for (const expected of [250, 250, 354]) {
          const reply = await client.read();
          if (reply.code !== expected) throw new Error(`seeding message ${index}: ${reply.text}`);
        }
        client.write(dataPayload(make(index)));
        const stored = await client.read();
        if (stored.code !== 250) throw new Error(`seeding message ${index}: ${stored.text}`);
      }
    } finally {
      client.close();
    }
  }
  await Promise.all(Array.from({ length: connections }, worker));
}

export function simpleMessage(subject: string, body = 'Hello from the seed.'): Buffer {
  return Buffer.from(
    `From: Seeder <seed@example.com>\r\nTo: inbox@example.com\r\nSubject: ${subject}\r\nDate: Sat, 28 Nov 2026 10:00:00 +0000\r\nMessage-ID: <${subject.replace(/\W/g, '')}.${Math.random().toString(36).slice(2)}@seed.test>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${body}\r\n`,
  );
}
