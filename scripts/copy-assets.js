// Copies the non-TypeScript files the compiled code reads at run time into dist/.
import { cpSync } from 'node:fs';

cpSync(new URL('../src/store/migrations/', import.meta.url), new URL('../dist/store/migrations/', import.meta.url), { recursive: true });
// The PostgreSQL store's migrations (src/store/pg/migrate.ts reads them beside its compiled file).
cpSync(new URL('../src/store/pg/migrations/', import.meta.url), new URL('../dist/store/pg/migrations/', import.meta.url), { recursive: true });
// The caniemail.com data the HTML check reads (src/checks/html/data.ts) on first use, with its
// licence and SOURCES note. The npm package ships this copy only (package.json "files").
cpSync(new URL('../src/checks/html/data/', import.meta.url), new URL('../dist/checks/html/data/', import.meta.url), { recursive: true });
