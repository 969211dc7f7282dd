import { describe, expect, it } from 'vitest';
import { IntakeBudget } from '../../src/smtp/intake-budget.js';

describe('IntakeBudget', () => {
  it('asks for a pause past the limit and resumes the waiters once bytes are released', () => {
    const budget = new IntakeBudget(100);
    expect(budget.take(60)).toBe(true); // a message being stored
    expect(budget.take(60)).toBe(false);
    const resumed: string[] = [];
    budget.whenRoom(60, () => resumed.push('second'));
    expect(resumed).toEqual([]);
    budget.release(60);
    expect(resumed).toEqual(['second']);
    expect(budget.heldBytes).toBe(60);
  });

  it('never makes a message that holds the whole budget wait for itself', () => {
    const budget = new IntakeBudget(100);
    expect(budget.take(500)).toBe(false);
    let resumed = false;
    budget.whenRoom(500, () => (resumed = true));
    expect(resumed).toBe(true);
  });

  it('lets the paused message holding the most go on when only paused messages hold bytes', () => {
    const budget = new IntakeBudget(100);
    const resumed: string[] = [];
    budget.take(80); // A, being stored
    budget.take(50);
    budget.whenRoom(50, () => resumed.push('B'));
    budget.take(70);
    budget.whenRoom(70, () => resumed.push('C'));
    expect(resumed).toEqual([]);
    budget.release(80); // A stored: B and C still hold 120, over the limit, and both are paused
    expect(resumed).toEqual(['C']);
  });

  it('forgets a cancelled waiter', () => {
    const budget = new IntakeBudget(10);
    budget.take(20);
    budget.take(5);
    let resumed = false;
    const resume = (): void => void (resumed = true);
    budget.whenRoom(5, resume);
    budget.cancel(resume);
    budget.release(25);
    expect(resumed).toBe(false);
  });
});
