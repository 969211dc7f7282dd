// Refreshes the vendored caniemail.com data (src/checks/html/data/caniemail.json) from the
// `caniemail` dev dependency: `npm install -D caniemail@latest && npm run refresh:caniemail`.
// Kotak ships only the JSON: the package's own checker pulls prettier plugins at run time.
import { copyFileSync, readFileSync } from 'node:fs';

const source = new URL('../node_modules/caniemail/data/caniemail.json', import.meta.url);
const target = new URL('../src/checks/html/data/caniemail.json', import.meta.url);
const data = JSON.parse(readFileSync(source, 'utf8'));
if (!Array.isArray(data.data) || typeof data.last_update_date !== 'string') {
  throw new Error(`${source.pathname} does not look like caniemail.com data (no data[] or last_update_date)`);
}
const { version } = JSON.parse(readFileSync(new URL('../node_modules/caniemail/package.json', import.meta.url), 'utf8'));
copyFileSync(source, target);
// The MIT licence asks for its notice to travel with the copy.
copyFileSync(new URL('../node_modules/caniemail/LICENSE', import.meta.url), new URL('../src/checks/html/data/LICENSE', import.meta.url));
console.log(`caniemail ${version}: ${data.data.length} features, data of ${data.last_update_date}`);
console.log('Update the date in src/checks/html/data/SOURCES.md and README.md ("HTML check") to match.');
