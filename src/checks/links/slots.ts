/**
 * How many link-check requests run at once: at most `total` in all, and at most `perHost` to any
 * one host, across every check running in the process (two people checking the same message do
 * not double the load on its hosts). A request waits in line until both limits have room; one
 * whose host is full does not hold up those behind it for other hosts. Granted in arrival order.
 */

export interface SlotLimits {
  readonly total: number;
  readonly perHost: number;
}

export interface Slots {
  /** Resolves with a release function once a slot for `host` is free; rejects if `signal` aborts first. */
  acquire(host: string, signal: AbortSignal): Promise<() => void>;
}

interface Waiter {
  readonly host: string;
  readonly grant: () => void;
}

export function createSlots(limits: SlotLimits): Slots {
  let running = 0;
  const perHost = new Map<string, number>();
  const queue: Waiter[] = [];

  const hasRoom = (host: string) => running < limits.total && (perHost.get(host) ?? 0) < limits.perHost;

  const take = (host: string): (() => void) => {
    running++;
    perHost.set(host, (perHost.get(host) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      running--;
      const left = perHost.get(host)! - 1;
      if (left === 0) perHost.delete(host);
      else perHost.set(host, left);
      pump();
    };
  };

  function pump(): void {
    for (let i = 0; i < queue.length && running < limits.total; ) {
      const waiter = queue[i]!;
      if (hasRoom(waiter.host)) {
        queue.splice(i, 1);
        waiter.grant();
      } else {
        i++;
      }
    }
  }

  return {
    acquire(host, signal) {
      if (signal.aborted) return Promise.reject(signal.reason);
      return new Promise((resolve, reject) => {
        const onAbort = () => {
          const at = queue.indexOf(waiter);
          if (at !== -1) queue.splice(at, 1);
          reject(signal.reason);
        };
        const waiter: Waiter = {
          host,
          grant: () => {
            signal.removeEventListener('abort', onAbort);
            resolve(take(host));
          },
        };
        signal.addEventListener('abort', onAbort, { once: true });
        queue.push(waiter);
        pump();
      });
    },
  };
}
