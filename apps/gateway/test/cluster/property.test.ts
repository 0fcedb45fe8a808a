import { CLIENT_EVENTS, isChatError, validateText } from '@chat/protocol';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, eventually, texts, type TestClient } from '../support/client';
import { at, memoryCluster, stopAll, type RunningGateway } from '../support/cluster';

let nodes: RunningGateway[];
let fuzzer: TestClient;
let observer: TestClient;

beforeAll(async () => {
  nodes = await memoryCluster(1);
  fuzzer = await connect(at(nodes, 0).url, { name: 'fuzzer' });
  observer = await connect(at(nodes, 0).url, { name: 'observer' });
});
afterAll(async () => {
  fuzzer.close();
  observer.close();
  await stopAll(nodes);
});

const roomName = fc.oneof(fc.constantFrom('lobby', 'dev', 'Ops'), fc.string({ maxLength: 40 }));
const text = fc.oneof(
  fc.string({ maxLength: 50 }),
  fc.string({ unit: 'binary', maxLength: 50 }),
  fc.constantFrom('', '   ', '\u001b[2J', 'x'.repeat(2_001)),
  fc.anything(),
);
const payload = fc.oneof(
  fc.anything(),
  fc.record(
    {
      text,
      room: fc.oneof(roomName, fc.anything()),
      cid: fc.oneof(fc.string({ maxLength: 80 }), fc.anything()),
      since: fc.oneof(fc.integer({ min: -5, max: 1_000 }), fc.anything()),
      to: fc.oneof(fc.constantFrom('observer', 'fuzzer', 'nobody'), fc.anything()),
    },
    { requiredKeys: [] },
  ),
);
const event = fc.oneof(fc.constantFrom(...CLIENT_EVENTS), fc.string({ maxLength: 20 }));

describe('arbitrary payloads at every event', () => {
  it('are each answered with a valid ack or a coded error, and nothing invalid is broadcast', async () => {
    await fc.assert(
      fc.asyncProperty(event, payload, async (name, body) => {
        const ack = (await fuzzer.request(name as 'send', body)) as Record<string, unknown>;
        if (ack.ok === true) {
          expect((CLIENT_EVENTS as readonly string[]).includes(name)).toBe(true);
        } else {
          expect(ack.ok).toBe(false);
          expect(isChatError(ack.error)).toBe(true);
        }
        // The fuzzer may have wandered off to another room: bring it back for the next run.
        if (name === 'join' && ack.ok === true) await fuzzer.request('join', { room: 'lobby' });
      }),
      { numRuns: 300 },
    );
    // Every broadcast the observer saw was a valid message from the fuzzer.
    for (const message of observer.messages) {
      expect(validateText(message.text).ok).toBe(true);
      expect(message).toMatchObject({ room: 'lobby', from: { name: 'fuzzer' } });
    }
    // And the server still serves normally.
    expect((await fetch(`${at(nodes, 0).url}/healthz`)).status).toBe(200);
    await fuzzer.send('after the fuzz');
    await eventually(() => expect(texts(observer).at(-1)).toBe('after the fuzz'));
  });
});
