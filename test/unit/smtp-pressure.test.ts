/** ClientLimits under pressure: when it starts and ends, and who may take the reserved slots. */
import { describe, expect, it } from 'vitest';
import { ClientLimits } from '../../src/smtp/client-limits.js';

const none = { maxConnections: 0, maxConnectionsPerClient: 0, connectionRate: 0, messageRate: 0 };

function admit(limits: ClientLimits, address: string, times: number): (string | null)[] {
  return Array.from({ length: times }, () => limits.admitConnection(address)?.limit ?? null);
}

describe('ClientLimits pressure', () => {
  it('starts at 80% of maxConnections open and ends only below 60%', () => {
    const limits = new ClientLimits({ ...none, maxConnections: 10 });
    const changes: (string | null)[] = [];
    for (const address of ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5', '10.0.0.6', '10.0.0.7', '10.0.0.8']) {
      expect(limits.admitConnection(address)).toBeNull();
      changes.push(limits.updatePressure());
    }
    expect(changes).toEqual([null, null, null, null, null, null, null, 'started']);
    expect(limits.underPressure).toBe(true);
    for (const address of ['10.0.0.8', '10.0.0.7']) {
      limits.releaseConnection(address);
      expect(limits.updatePressure()).toBeNull();
    }
    // 6 open = 60%: still under pressure; 5 open: over.
    expect(limits.underPressure).toBe(true);
    limits.releaseConnection('10.0.0.6');
    expect(limits.updatePressure()).toBe('ended');
    expect(limits.underPressure).toBe(false);
    expect(limits.updatePressure()).toBeNull();
  });

  it('keeps the last 20% of slots for addresses holding fewer than 5% of them (at least 1)', () => {
    const limits = new ClientLimits({ ...none, maxConnections: 50 });
    // Five addresses take 8 slots each: 40 of 50.
    for (let i = 0; i < 8; i++) for (const n of [2, 3, 4, 5, 6]) expect(limits.admitConnection(`127.0.0.${n}`)).toBeNull();
    const refusal = limits.admitConnection('127.0.0.2');
    expect(refusal).toEqual({ limit: 'reserved-slots', text: 'Too many connections from 127.0.0.2 while the server is busy, try again later' });
    // 5% of 50 = 2: a newcomer gets two of the reserved slots, then it holds its share.
    expect(admit(limits, '127.0.0.1', 3)).toEqual([null, null, 'reserved-slots']);
    expect(admit(limits, '127.0.0.7', 3)).toEqual([null, null, 'reserved-slots']);
    expect(limits.openConnections).toBe(44);
    // Below 80% the slots are open to anyone again, heavy holders included.
    for (let i = 0; i < 5; i++) limits.releaseConnection('127.0.0.3');
    expect(limits.admitConnection('127.0.0.2')).toBeNull();
  });

  it('the total limit is reported before the reserve; no maxConnections means no pressure and no reserve', () => {
    const full = new ClientLimits({ ...none, maxConnections: 5 });
    expect(admit(full, '10.0.0.1', 6)).toEqual([null, null, null, null, 'reserved-slots', 'reserved-slots']);
    expect(admit(full, '10.0.0.2', 2)).toEqual([null, 'connections']);
    const unlimited = new ClientLimits(none);
    expect(admit(unlimited, '10.0.0.1', 1000).every((r) => r === null)).toBe(true);
    expect(unlimited.updatePressure()).toBeNull();
    expect(unlimited.underPressure).toBe(false);
  });
});
