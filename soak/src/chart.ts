import { Resvg } from '@resvg/resvg-js';
import type { Figures } from './report';

const W = 1200;
const H = 640;
const M = { left: 70, right: 30, top: 60, bottom: 50 };
const LANE = 11;

/** Lanes of fault marks: one per kind, in this order, each with its colour. */
const KIND_COLORS: Record<string, string> = {
  'gw-kill': '#d62728',
  'gw-term': '#ff7f0e',
  'redis-kill': '#8c564b',
  'redis-restart': '#bcbd22',
  'redis-empty': '#e377c2',
  'redis-old': '#9467bd',
  failover: '#17becf',
  'redis-latency': '#7f7f7f',
  'redis-stall': '#393b79',
  'redis-reset': '#637939',
  'client-latency': '#aec7e8',
  'client-stall': '#98df8a',
  'client-reset': '#ff9896',
  'slow-reader': '#c5b0d5',
};

/**
 * Throughput (acked sends per second) and errors (failed requests, lost connections) over
 * time, with each fault drawn as a bar in its kind's lane from injection to heal. SVG drawn
 * here, PNG by resvg (as bench/src/chart.ts does).
 */
export function soakChartPng(f: Figures, title: string): Buffer {
  const kinds = Object.keys(KIND_COLORS).filter((k) => f.spans.some((s) => s.kind === k));
  const lanesH = kinds.length * LANE + 10;
  const plotH = H - M.top - M.bottom - lanesH;
  const plotW = W - M.left - M.right;
  const tMax = Math.max(1, f.seconds.length);
  const yMax = Math.max(5, ...f.seconds.map((s) => Math.max(s.acked, s.errors))) * 1.1;
  const x = (t: number) => M.left + (t / tMax) * plotW;
  const y = (v: number) => M.top + plotH - (v / yMax) * plotH;
  const parts: string[] = [`<rect width="${W}" height="${H}" fill="white"/>`];
  parts.push(
    `<text x="${M.left}" y="30" font-size="18" font-weight="bold">${escape(title)}</text>`,
  );
  parts.push(
    `<text x="${M.left}" y="48" font-size="12" fill="#444">acked sends/s (blue), failed requests + lost connections/s (red); faults below, one lane per kind, injection to heal</text>`,
  );
  parts.push(
    `<line x1="${M.left}" y1="${M.top + plotH}" x2="${M.left + plotW}" y2="${M.top + plotH}" stroke="#000"/>`,
  );
  parts.push(
    `<line x1="${M.left}" y1="${M.top}" x2="${M.left}" y2="${M.top + plotH}" stroke="#000"/>`,
  );
  const step = niceStep(yMax);
  for (let v = 0; v <= yMax; v += step) {
    parts.push(
      `<line x1="${M.left}" y1="${y(v)}" x2="${M.left + plotW}" y2="${y(v)}" stroke="#eee"/>`,
    );
    parts.push(
      `<text x="${M.left - 6}" y="${y(v) + 4}" font-size="11" text-anchor="end">${v}</text>`,
    );
  }
  const tStep = niceStep(tMax);
  for (let t = 0; t <= tMax; t += tStep) {
    parts.push(
      `<text x="${x(t)}" y="${H - M.bottom + 18}" font-size="11" text-anchor="middle">${t}s</text>`,
    );
  }
  const line = (values: number[], color: string) =>
    `<polyline fill="none" stroke="${color}" stroke-width="1.5" points="${values.map((v, i) => `${x(i + 0.5).toFixed(1)},${y(v).toFixed(1)}`).join(' ')}"/>`;
  parts.push(
    line(
      f.seconds.map((s) => s.acked),
      '#1f77b4',
    ),
  );
  parts.push(
    line(
      f.seconds.map((s) => s.errors),
      '#d62728',
    ),
  );
  kinds.forEach((kind, lane) => {
    const top = M.top + plotH + 8 + lane * LANE;
    parts.push(
      `<text x="${M.left - 6}" y="${top + 8}" font-size="9" text-anchor="end">${kind}</text>`,
    );
    for (const span of f.spans.filter((s) => s.kind === kind)) {
      const x0 = x(span.start / 1000);
      const w = Math.max(1.5, x(span.heal / 1000) - x0);
      parts.push(
        `<rect x="${x0.toFixed(1)}" y="${top}" width="${w.toFixed(1)}" height="${LANE - 2}" fill="${KIND_COLORS[kind]}"/>`,
      );
    }
  });
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="DejaVu Sans">${parts.join('')}</svg>`;
  return new Resvg(svg, { font: { loadSystemFonts: true } }).render().asPng();
}

function niceStep(range: number): number {
  const raw = range / 8;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  return ([1, 2, 2.5, 5, 10].find((s) => s * magnitude >= raw) ?? 10) * magnitude;
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
