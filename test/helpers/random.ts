/**
 * A small deterministic generator (mulberry32): the same seed gives the same sequence, so a
 * failing random test can be replayed by its seed and two benchmark runs build the same data.
 * The one Kotak's chaos probabilities use (src/chaos/random.ts).
 */
export { seededRandom } from '../../src/chaos/random.js';
