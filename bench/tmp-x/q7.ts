import sqlite3 from 'sqlite3';
const db = new sqlite3.Database('/tmp/m1m/million.db', sqlite3.OPEN_READONLY);
const all = (sql: string, p: unknown[] = []) => new Promise<any[]>((res, rej) => db.all(sql, p, (e, r) => (e ? rej(e) : res(r))));
async function time(label: string, f: () => Promise<unknown>, runs = 7) {
  const t: number[] = []; let out: unknown;
  for (let i = 0; i < runs; i++) { const s = performance.now(); out = await f(); t.push(performance.now() - s); }
  t.sort((a, b) => a - b); console.log(label.padEnd(40), t[Math.floor(runs / 2)]!.toFixed(2), 'ms', JSON.stringify(out).slice(0, 60));
}
for (const tri of ['use', 'er3', 'r37', '37@']) for (const cap of [2000, 20000, 100000])
  await time(`probe ${tri} cap ${cap}`, async () => (await all(`SELECT COUNT(*) n FROM (SELECT 1 FROM message_trigram WHERE message_trigram MATCH ? LIMIT ?)`, [`{to_search} : "${tri}"`, cap]))[0].n, 3);
for (const part of ['user37@', 'r37@', 'er37', '37@'])
  await time(`phrase ${part} desc 1050`, async () => (await all(`SELECT rowid FROM message_trigram WHERE message_trigram MATCH ? ORDER BY rowid DESC LIMIT 1050`, [`{to_search} : "${part}"`])).length, 5);
