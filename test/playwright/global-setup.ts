/** Starts the rendezvous the isolation tests meet at; Playwright calls the returned function at the end. */
import { startRendezvous } from './rendezvous.js';

export default async function globalSetup(): Promise<() => Promise<void>> {
  const rendezvous = await startRendezvous();
  return () => rendezvous.close();
}
