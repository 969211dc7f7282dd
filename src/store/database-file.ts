/**
 * Decides, before anything is written, whether a `--db` path may be used: the path's own
 * problems (missing directory, permissions, a directory, not SQLite) and whose database it is.
 * Kotak's databases carry KOTAK_APPLICATION_ID in their header; any other non-empty database is
 * refused, so Kotak never adds its tables to another application's file.
 */
import { constants } from 'node:fs';
import { access, open, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { KotakError } from '../errors.js';
import { openConnection } from './sqlite-driver.js';

/**
 * `PRAGMA application_id` of every Kotak database: the ASCII bytes "Kotk", so a hex dump of the
 * header (offset 68) names its owner, and it is not among the ids SQLite's magic.txt registers
 * for other formats. Fixed forever: changing it would orphan every existing database.
 */
export const KOTAK_APPLICATION_ID = 0x4b6f746b;

/** The first 16 bytes of every SQLite database file. */
const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');
/** Offsets of the big-endian 32-bit user_version and application_id in the 100-byte header. */
const USER_VERSION_OFFSET = 60;
const APPLICATION_ID_OFFSET = 68;

/** What a usable path holds: nothing yet, a marked Kotak database, or one made before the mark. */
export type DatabaseFileState = 'new' | 'kotak' | 'unmarked-kotak';

/** The refusal every check below ends in: the path, then the cause. */
export function unusable(path: string, cause: string, err?: unknown): KotakError {
  return new KotakError('database_unusable', `${path}: ${cause}`, err === undefined ? undefined : { cause: err });
}

export function isBusy(err: unknown): boolean {
  return (err as { code?: string }).code === 'SQLITE_BUSY';
}

export function inUse(path: string, err?: unknown): KotakError {
  return unusable(path, 'is in use by another process (Kotak runs one process per database file)', err);
}

/** Words for the errno a check met. */
function because(err: unknown): string {
  switch ((err as NodeJS.ErrnoException).code) {
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EROFS':
      return 'read-only file system';
    case 'ENOTDIR':
      return 'a parent of the path is a file, not a directory';
    case 'ELOOP':
      return 'too many symbolic links';
    default:
      return (err as Error).message;
  }
}

/**
 * Throws a KotakError('database_unusable') naming the path and the cause, or says what is there.
 * Reads only: files by their bytes, and a database (when its header is not marked) through a
 * read-only connection, which never writes or checkpoints.
 * @param newestSchema the highest migration this Kotak knows; a database past it is refused.
 */
export async function inspectDatabaseFile(path: string, newestSchema: number): Promise<DatabaseFileState> {
  const directory = dirname(path);
  let size: number;
  try {
    const info = await stat(path);
    if (info.isDirectory()) throw unusable(path, 'is a directory');
    if (!info.isFile()) throw unusable(path, 'is not a regular file');
    size = info.size;
  } catch (err) {
    if (err instanceof KotakError) throw err;
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw unusable(path, because(err), err);
    try {
      if (!(await stat(directory)).isDirectory()) throw unusable(path, `${directory} is not a directory`);
    } catch (dirErr) {
      if (dirErr instanceof KotakError) throw dirErr;
      throw unusable(path, (dirErr as NodeJS.ErrnoException).code === 'ENOENT' ? 'directory does not exist' : because(dirErr), dirErr);
    }
    size = -1;
  }
  // SQLite creates the -wal (and the raw-message directory, the reserve) beside the database.
  await access(directory, constants.W_OK | constants.X_OK).catch((err: unknown) => {
    throw unusable(path, `${because(err)} (Kotak creates files in ${directory})`, err);
  });
  if (size < 0) return 'new';
  await access(path, constants.R_OK | constants.W_OK).catch((err: unknown) => {
    throw unusable(path, because(err), err);
  });

  const header = Buffer.alloc(100);
  let read = 0;
  try {
    const file = await open(path, 'r');
    try {
      read = (await file.read(header, 0, header.length, 0)).bytesRead;
    } finally {
      await file.close();
    }
  } catch (err) {
    throw unusable(path, because(err), err);
  }
  if (read === 0) {
    // Empty, unless a crash left everything in the write-ahead log: then ask SQLite.
    const walSize = await stat(`${path}-wal`).then((s) => s.size, () => 0);
    if (walSize === 0) return 'new';
  } else if (read < header.length || !header.subarray(0, SQLITE_MAGIC.length).equals(SQLITE_MAGIC)) {
    throw unusable(path, 'is not a SQLite database');
  } else {
    const applicationId = header.readUInt32BE(APPLICATION_ID_OFFSET);
    if (applicationId === KOTAK_APPLICATION_ID) return checkSchema(path, header.readUInt32BE(USER_VERSION_OFFSET), newestSchema);
    if (applicationId !== 0) throw unusable(path, `is not a Kotak database (its SQLite application_id is 0x${applicationId.toString(16)})`);
  }
  return inspectContents(path, newestSchema);
}

function checkSchema(path: string, schema: number, newestSchema: number): 'kotak' {
  if (schema > newestSchema) throw unusable(path, `was written by a newer Kotak (schema ${schema}; this one knows up to ${newestSchema})`);
  return 'kotak';
}

/** An unmarked header (or only a WAL): what the database holds decides, read through SQLite. */
async function inspectContents(path: string, newestSchema: number): Promise<DatabaseFileState> {
  let connection;
  try {
    connection = await openConnection(path, { readOnly: true, busyTimeoutMs: 0 });
  } catch (err) {
    throw unusable(path, because(err), err);
  }
  try {
    const applicationId = (await connection.get<{ application_id: number }>('PRAGMA application_id'))?.application_id ?? 0;
    const schema = (await connection.get<{ user_version: number }>('PRAGMA user_version'))?.user_version ?? 0;
    if (applicationId === KOTAK_APPLICATION_ID) return checkSchema(path, schema, newestSchema);
    if (applicationId !== 0) throw unusable(path, `is not a Kotak database (its SQLite application_id is 0x${applicationId.toString(16)})`);
    const tables = (await connection.all<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")).map((r) => r.name);
    if (tables.length === 0) return 'new';
    // A Kotak database from before the mark: recognised by its own migrations table.
    if (tables.includes('schema_migrations') && tables.includes('messages')) {
      const names = (await connection.all<{ name: string }>('SELECT name FROM schema_migrations')).map((r) => r.name);
      if (names.includes('001_messages.sql') && names.every((name) => /^\d{3}_[a-z0-9_]+\.sql$/.test(name))) return 'unmarked-kotak';
    }
    const shown = tables.length > 5 ? `${tables.slice(0, 5).join(', ')}, …` : tables.join(', ');
    throw unusable(path, `is not a Kotak database (it holds other tables: ${shown}); Kotak leaves it untouched`);
  } catch (err) {
    if (err instanceof KotakError) throw err;
    if (isBusy(err)) throw inUse(path, err);
    const code = (err as { code?: string }).code;
    throw unusable(path, code === 'SQLITE_NOTADB' ? 'is not a SQLite database' : because(err), err);
  } finally {
    await connection.close().catch(() => undefined);
  }
}
