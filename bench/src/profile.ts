import { existsSync, readFileSync } from 'node:fs';
import { SourceMap, type SourceMapPayload } from 'node:module';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Self time of a V8 `.cpuprofile` (from `node --cpu-prof`), by function and by module. Frames
 * in a bundle with a source map (the gateway's dist/main.js) are mapped back to their source
 * file, so our own modules show up by name.
 */
interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileEntry {
  name: string;
  ms: number;
  /** Share of the non-idle time. */
  share: number;
}

export interface ProfileSummary {
  file: string;
  totalMs: number;
  busyMs: number;
  functions: ProfileEntry[];
  modules: ProfileEntry[];
}

function pathOf(url: string): string {
  return url.startsWith('file://') ? fileURLToPath(url) : url;
}

/** Who a frame belongs to: an npm package, a node built-in, a source file of ours, or V8. */
function moduleOf(frame: CallFrame, source: string | undefined, root: string): string {
  if (!frame.url) {
    if (frame.functionName.startsWith('(')) return frame.functionName;
    return '(native)';
  }
  if (frame.url.startsWith('node:')) return frame.url.replace(/^node:internal\//, 'node:');
  const path = source ?? pathOf(frame.url);
  const pkg = path.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
  if (pkg) return pkg[1] ?? path;
  return relative(root, path);
}

const maps = new Map<string, SourceMap | undefined>();

function sourceMapFor(url: string): SourceMap | undefined {
  if (!maps.has(url)) {
    const path = `${pathOf(url)}.map`;
    let map: SourceMap | undefined;
    if (existsSync(path)) {
      try {
        map = new SourceMap(JSON.parse(readFileSync(path, 'utf8')) as SourceMapPayload);
      } catch {
        map = undefined;
      }
    }
    maps.set(url, map);
  }
  return maps.get(url);
}

function original(frame: CallFrame): { source: string; line: number } | undefined {
  if (!frame.url || frame.url.startsWith('node:')) return undefined;
  const map = sourceMapFor(frame.url);
  if (!map) return undefined;
  const entry = map.findEntry(frame.lineNumber, frame.columnNumber) as {
    originalSource?: string;
    originalLine?: number;
  };
  if (!entry.originalSource) return undefined;
  let source = pathOf(entry.originalSource);
  if (!isAbsolute(source)) source = resolve(dirname(pathOf(frame.url)), source);
  // A gateway built from a git ref (--gateway-ref) was extracted under bench/results/tmp/src/<sha>.
  source = source.replace(/\/bench\/results\/tmp\/src\/[0-9a-f]+\//, '/');
  return { source, line: (entry.originalLine ?? 0) + 1 };
}

export function summariseProfile(file: string, root: string, top = 25): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  const deltas = profile.timeDeltas;
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i] ?? -1;
    // timeDeltas[i + 1] is the time until the next sample: the time spent in sample i.
    selfUs.set(id, (selfUs.get(id) ?? 0) + (deltas[i + 1] ?? 0));
  }
  const functions = new Map<string, number>();
  const modules = new Map<string, number>();
  let totalUs = 0;
  let idleUs = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node) continue;
    totalUs += us;
    const frame = node.callFrame;
    if (frame.functionName === '(idle)') {
      idleUs += us;
      continue;
    }
    const mapped = original(frame);
    const module = moduleOf(frame, mapped?.source, root);
    const where = mapped
      ? `${relative(root, mapped.source)}:${mapped.line}`
      : frame.url
        ? `${module}:${frame.lineNumber + 1}`
        : '';
    const name = `${frame.functionName || '(anonymous)'}${where ? ` ${where}` : ''}`;
    functions.set(name, (functions.get(name) ?? 0) + us);
    modules.set(module, (modules.get(module) ?? 0) + us);
  }
  const busyUs = totalUs - idleUs;
  const ranked = (map: Map<string, number>): ProfileEntry[] =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, ms: us / 1000, share: busyUs > 0 ? us / busyUs : 0 }));
  return {
    file: relative(root, file),
    totalMs: totalUs / 1000,
    busyMs: busyUs / 1000,
    functions: ranked(functions),
    modules: ranked(modules),
  };
}

export function profileMarkdown(summary: ProfileSummary, title: string): string {
  const row = (e: ProfileEntry) =>
    `| ${e.name.replace(/\|/g, '\\|')} | ${e.ms.toFixed(0)} | ${(e.share * 100).toFixed(1)}% |`;
  return [
    `### ${title}`,
    '',
    `Profile \`${summary.file}\`: ${(summary.totalMs / 1000).toFixed(1)} s recorded, ${(summary.busyMs / 1000).toFixed(1)} s of it busy (not idle). Self time:`,
    '',
    '| module | self ms | share of busy |',
    '| --- | ---: | ---: |',
    ...summary.modules.slice(0, 15).map(row),
    '',
    '| function | self ms | share of busy |',
    '| --- | ---: | ---: |',
    ...summary.functions.map(row),
    '',
  ].join('\n');
}
