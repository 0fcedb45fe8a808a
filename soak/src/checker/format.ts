import type { Entry } from '../history';
import { VIOLATION_KINDS, type Violation } from './violation';

/**
 * A violation with the operations around it: the involved clients' entries (and the faults)
 * from `before` entries ahead of it to `after` entries past it.
 */
export function describeViolation(
  violation: Violation,
  history: readonly Entry[],
  { before = 12, after = 4 } = {},
): string {
  const involved = new Set(violation.clients);
  const near = (entry: Entry) => involved.has(entry.c) || entry.k === 'fault';
  const lines: string[] = [];
  let taken = 0;
  for (let i = violation.at; i >= 0 && taken < before; i--) {
    const entry = history[i];
    if (entry !== undefined && near(entry)) {
      lines.unshift(line(i, entry, i === violation.at));
      taken++;
    }
  }
  taken = 0;
  for (let i = violation.at + 1; i < history.length && taken < after; i++) {
    const entry = history[i];
    if (entry !== undefined && near(entry)) {
      lines.push(line(i, entry, false));
      taken++;
    }
  }
  const head = `VIOLATION ${violation.kind} (${VIOLATION_KINDS[violation.kind]}): ${violation.message}`;
  return [head, ...lines].join('\n');
}

function line(index: number, entry: Entry, here: boolean): string {
  const { t, c, k, ...rest } = entry;
  return `${here ? '>>' : '  '} #${index} ${(t / 1000).toFixed(3)}s ${c} ${k} ${JSON.stringify(rest)}`;
}
