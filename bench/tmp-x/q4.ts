import sqlite3 from 'sqlite3';
const db = new sqlite3.Database(':memory:');
const all = (sql: string, p: unknown[] = []) => new Promise<any[]>((res, rej) => db.all(sql, p, (e, r) => (e ? rej(e) : res(r))));
await all("CREATE VIRTUAL TABLE f USING fts5(a)");
await all("INSERT INTO f VALUES ('hello')");
const q = Array.from({ length: 600 }, (_, i) => `"t${i}"`).join(' OR ') + ' OR "hello"';
console.log(await all("SELECT rowid FROM f WHERE f MATCH ? ORDER BY rowid DESC", [`(${q}) AND ("hello" OR "x")`]));
