/**
 * What the browser's long tasks were made of, from a Chromium trace (the JSON that
 * `browser.stopTracing()` returns): for every task of the page's main thread over a threshold,
 * its length and the trace events inside it, summed by name ("Layout 31 ms, FunctionCall 12 ms"),
 * so a slow frame can be put down to script, style, layout, paint or garbage collection.
 */

interface TraceEvent {
  readonly name: string;
  readonly ph: string;
  readonly ts: number;
  readonly dur?: number;
  readonly pid: number;
  readonly tid: number;
  readonly args?: { readonly name?: string; readonly data?: { readonly functionName?: string; readonly url?: string } };
}

export interface LongTask {
  /** Milliseconds from the first task of the trace's main thread. */
  readonly at: number;
  readonly ms: number;
  /** Inner events by name, longest first, in ms (nested events are each counted: a sum, not a partition). */
  readonly parts: readonly { readonly name: string; readonly ms: number }[];
}

/** The renderer main threads of the trace, busiest first (the page's is the one that ran the most). */
function rendererMainThreads(events: readonly TraceEvent[]): { pid: number; tid: number }[] {
  const threads = events.filter((e) => e.ph === 'M' && e.name === 'thread_name' && e.args?.name === 'CrRendererMain');
  const busy = (pid: number, tid: number) => events.reduce((sum, e) => (e.pid === pid && e.tid === tid && e.name === 'RunTask' ? sum + (e.dur ?? 0) : sum), 0);
  return threads.map(({ pid, tid }) => ({ pid, tid, busy: busy(pid, tid) })).sort((a, b) => b.busy - a.busy);
}

export function longTasks(trace: Buffer | string, thresholdMs = 50): LongTask[] {
  const parsed = JSON.parse(trace.toString()) as { traceEvents?: TraceEvent[] } | TraceEvent[];
  const events = Array.isArray(parsed) ? parsed : (parsed.traceEvents ?? []);
  const main = rendererMainThreads(events)[0];
  if (!main) return [];
  const onMain = events.filter((e) => e.pid === main.pid && e.tid === main.tid && e.ph === 'X' && e.dur !== undefined).sort((a, b) => a.ts - b.ts);
  const tasks = onMain.filter((e) => e.name === 'RunTask');
  const origin = tasks[0]?.ts ?? 0;
  const found: LongTask[] = [];
  for (const task of tasks) {
    if (task.dur! < thresholdMs * 1000) continue;
    const end = task.ts + task.dur!;
    const byName = new Map<string, number>();
    for (const inner of onMain) {
      if (inner.ts > end) break; // sorted by start: nothing later is inside
      if (inner.ts < task.ts || inner.ts + inner.dur! > end || inner === task) continue;
      const name = inner.name === 'FunctionCall' && inner.args?.data?.functionName ? `FunctionCall ${inner.args.data.functionName}` : inner.name;
      byName.set(name, (byName.get(name) ?? 0) + inner.dur! / 1000);
    }
    const parts = [...byName].map(([name, ms]) => ({ name, ms })).sort((a, b) => b.ms - a.ms);
    found.push({ at: (task.ts - origin) / 1000, ms: task.dur! / 1000, parts });
  }
  return found;
}

/** One line per task: "at 1234 ms, 61 ms: Layout 40, UpdateLayoutTree 9, FunctionCall 8, …". */
export function describeLongTasks(tasks: readonly LongTask[], partsShown = 8): string[] {
  return tasks.map(
    (task) =>
      `  at ${task.at.toFixed(0)} ms, ${task.ms.toFixed(0)} ms: ` +
      task.parts
        .slice(0, partsShown)
        .map((part) => `${part.name} ${part.ms.toFixed(1)}`)
        .join(', '),
  );
}
