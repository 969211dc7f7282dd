import sqlite3 from 'sqlite3';
const db = new sqlite3.Database('/tmp/m1m/million.db', sqlite3.OPEN_READWRITE);
const all = (sql: string, p: unknown[] = []) => new Promise<any[]>((res, rej) => db.all(sql, p, (e, r) => (e ? rej(e) : res(r))));
async function time(label: string, f: () => Promise<unknown>, runs = 5) {
  const t: number[] = []; let out: unknown;
  for (let i = 0; i < runs; i++) { const s = performance.now(); out = await f(); t.push(performance.now() - s); }
  t.sort((a, b) => a - b); console.log(label.padEnd(50), t[Math.floor(runs / 2)]!.toFixed(1), 'ms', JSON.stringify(out).slice(0, 80));
}
await all("CREATE VIRTUAL TABLE IF NOT EXISTS temp.fv USING fts5vocab(main, 'message_fts', 'row')");
for (const w of ['ka', 'k', 'lo', 'sel']) {
  await time(`prefix ${w} newest 1051`, async () => (await all(`SELECT rowid FROM message_fts WHERE message_fts MATCH ? ORDER BY rowid DESC LIMIT 1051`, [`"${w}"*`])).length);
  await time(`vocab ${w} limit 65`, async () => (await all(`SELECT term FROM fv WHERE term >= ? AND term < ? LIMIT 65`, [w, w + '\u{10FFFF}'])).length);
}
