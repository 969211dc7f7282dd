/** Reads a store's database file through a connection of its own (the store closed, or sharing its process lock). */
import { openConnection, type Connection } from '../../src/store/sqlite-driver.js';

export async function peek<T>(path: string, read: (db: Connection) => Promise<T>): Promise<T> {
  const db = await openConnection(path, {});
  try {
    return await read(db);
  } finally {
    await db.close();
  }
}
