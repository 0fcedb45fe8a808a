import { describe, expect, it } from 'vitest';
import { BatchWindow } from '../../src/delivery/batch-window';
import { NodeLoad, type LoadSignal } from '../../src/delivery/node-load';

/** A node whose load the test sets. */
function load(busy: boolean, earlierInTurn = false): LoadSignal & { busy_: boolean } {
  return {
    busy_: busy,
    busy() {
      return this.busy_;
    },
    inTurn: () => earlierInTurn,
  };
}

describe('BatchWindow', () => {
  it('sends at once on an idle node, whatever the room’s rate', () => {
    const window = new BatchWindow(5, load(false));
    for (let t = 0; t < 100; t += 0.5) expect(window.arrived(t)).toBe('now');
  });

  it('on an idle node, sends the messages of one turn together at its end', () => {
    const window = new BatchWindow(5, load(false, true));
    expect(window.arrived(0)).toBe('end-of-turn');
  });

  it('holds a batch until the window after the last flush while the node is busy', () => {
    const window = new BatchWindow(5, load(true));
    window.flushed(251);
    expect(window.arrived(252)).toBe(4);
  });

  it('flushes at the end of the turn once the window has passed', () => {
    const window = new BatchWindow(5, load(true));
    window.flushed(251);
    expect(window.arrived(260)).toBe('end-of-turn');
  });

  it('goes back to sending at once when the node is idle again', () => {
    const signal = load(true);
    const window = new BatchWindow(5, signal);
    window.flushed(0);
    expect(window.arrived(1)).toBe(4);
    signal.busy_ = false;
    expect(window.arrived(2)).toBe('now');
  });

  it('never waits with a window of 0', () => {
    const window = new BatchWindow(0, load(true));
    window.flushed(0);
    expect(window.arrived(1)).toBe('now');
  });
});

describe('NodeLoad', () => {
  function burn(ms: number): void {
    const until = performance.now() + ms;
    while (performance.now() < until) {
      // Keep the event loop busy.
    }
  }

  it('is busy after a period in which the event loop worked most of the time', () => {
    const node = new NodeLoad(0.3);
    burn(150);
    expect(node.busy()).toBe(true);
  });

  it('is idle after a period of waiting', async () => {
    const node = new NodeLoad(0.3);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(node.busy()).toBe(false);
  });

  it('counts the messages of one turn of the event loop', async () => {
    const node = new NodeLoad();
    expect(node.inTurn()).toBe(false);
    expect(node.inTurn()).toBe(true);
    await new Promise((resolve) => setImmediate(resolve));
    expect(node.inTurn()).toBe(false);
  });
});
