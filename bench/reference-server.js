// The middle yardstick of issue 2, for bench/ingest.ts --reference: "smtp-server + mailparser +
// one SQLite insert per message", written the plain way, with the durability Kotak gives (WAL,
// synchronous=FULL: each message's own transaction is synced before its 250). No group commit,
// no full-text index, parsing on the SMTP thread. The issue measured 2.3k / 500 / 18 msg/s at
// 1 KB / 50 KB / 1 MB on its machine; running it here says how this machine compares with that one.
import { simpleParser } from 'mailparser';
import sqlite3 from 'sqlite3';
import { startYardstick } from './yardstick.js';

const file = process.argv[2];
if (!file) throw new Error('usage: node bench/reference-server.js DB_FILE');
const db = new sqlite3.Database(file);
await new Promise((resolve, reject) =>
  db.exec(
    `PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;
     CREATE TABLE messages (id INTEGER PRIMARY KEY, received_at INTEGER, mail_from TEXT, rcpt_to TEXT,
       subject TEXT, from_header TEXT, to_header TEXT, text TEXT, html TEXT, attachments TEXT, raw BLOB)`,
    (err) => (err ? reject(err) : resolve()),
  ),
);

startYardstick(
  (stream, session, callback) => {
    const chunks = [];
    stream.on('data', (chunk) => chunks.push(chunk));
    stream.on('end', () => {
      const raw = Buffer.concat(chunks);
      simpleParser(raw).then(
        (mail) => {
          const attachments = mail.attachments.map((a) => ({ filename: a.filename, contentType: a.contentType, size: a.size }));
          db.run(
            'INSERT INTO messages (received_at, mail_from, rcpt_to, subject, from_header, to_header, text, html, attachments, raw) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
            [Date.now(), session.envelope.mailFrom ? session.envelope.mailFrom.address : '', session.envelope.rcptTo.map((r) => r.address).join(','),
              mail.subject ?? null, mail.from?.text ?? null, Array.isArray(mail.to) ? mail.to.map((t) => t.text).join(', ') : mail.to?.text ?? null,
              mail.text ?? null, typeof mail.html === 'string' ? mail.html : null, JSON.stringify(attachments), raw],
            (err) => callback(err ?? null, 'Ok: stored'),
          );
        },
        (err) => callback(err),
      );
    });
  },
  (done) => db.close(done),
);
