// Copies the non-TypeScript files the compiled code reads at run time into dist/.
import { cpSync, mkdirSync } from 'node:fs';

cpSync(new URL('../src/store/migrations/', import.meta.url), new URL('../dist/store/migrations/', import.meta.url), { recursive: true });
// The caniemail.com data the HTML check reads (src/checks/html/data.ts), loaded on first use.
mkdirSync(new URL('../dist/checks/html/data/', import.meta.url), { recursive: true });
cpSync(new URL('../src/checks/html/data/caniemail.json', import.meta.url), new URL('../dist/checks/html/data/caniemail.json', import.meta.url));
