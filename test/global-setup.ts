/**
 * Builds dist/ once before the suite: parser worker threads and the child-process tests
 * (`bin/kotak.js`) run compiled code, and must run the code under test, not a stale build.
 */
import { execFileSync } from 'node:child_process';

export default function setup(): void {
  execFileSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit', cwd: new URL('..', import.meta.url).pathname });
}
