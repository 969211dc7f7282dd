import sqlite3 from 'sqlite3';
const db = new sqlite3.Database('/tmp/m1m/million.db', sqlite3.OPEN_READONLY);
const all = (sql: string, p: unknown[] = []) => new Promise<any[]>((res, rej) => db.all(sql, p, (e, r) => (e ? rej(e) : res(r))));
async function time(label: string, f: () => Promise<unknown>, runs = 7) {
  const t: number[] = []; let out: unknown;
  for (let i = 0; i < runs; i++) { const s = performance.now(); out = await f(); t.push(performance.now() - s); }
  t.sort((a, b) => a - b); console.log(label.padEnd(50), t[Math.floor(runs / 2)]!.toFixed(1), 'ms', JSON.stringify(out).slice(0, 60));
}
for (const v of ['user123@', 'user37@', 'user1999@']) {
  await time(`${v} trigram count`, async () => (await all(`SELECT count(*) n FROM message_trigram WHERE message_trigram MATCH ?`, [`{to_search} : "${v}"`]))[0].n);
  const tail = v.slice(4);
  await time(`${tail} trigram count`, async () => (await all(`SELECT count(*) n FROM message_trigram WHERE message_trigram MATCH ?`, [`{to_search} : "${tail}"`]))[0].n);
  await time(`${v} with LIKE`, async () => (await all(`SELECT count(*) n FROM message_trigram d CROSS JOIN messages m ON m.seq = d.rowid WHERE d.message_trigram MATCH ? AND m.to_search LIKE ?`, [`{to_search} : "${v}"`, `%${v}%`]))[0].n);
  await time(`${v} rowids desc limit 1050`, async () => (await all(`SELECT rowid FROM message_trigram WHERE message_trigram MATCH ? ORDER BY rowid DESC LIMIT 1050`, [`{to_search} : "${v}"`])).length);
}
