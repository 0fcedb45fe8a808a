import { setTimeout as delay } from 'node:timers/promises';

export interface ReadySample {
  at: number;
  status: number;
  reason?: string;
}

/** Polls a gateway's /readyz until `stop()`, keeping every answer. */
export function watchReadiness(url: string): { samples: ReadySample[]; stop: () => Promise<void> } {
  const samples: ReadySample[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const response = await fetch(`${url}/readyz`).catch(() => undefined);
      if (response) {
        const body = (await response.json()) as { reason?: string };
        samples.push({ at: Date.now(), status: response.status, reason: body.reason });
      }
      await delay(100); // a sampling period, not a wait for a condition
    }
  })();
  return {
    samples,
    stop: async () => {
      running = false;
      await loop;
    },
  };
}
