import { describe, expect, it } from 'vitest';
import { ResumeState } from '../src/resume';

const welcome = (room: string, resumeToken: string) => ({
  v: 1,
  user: { id: 4, name: 'alice' },
  node: 'gw-1',
  room,
  resumeToken,
});

describe('ResumeState', () => {
  it('first asks for the name, token and room it was given', () => {
    const state = new ResumeState({ name: 'alice', token: 'jwt' }, 'dev');
    expect(state.handshake()).toEqual({
      v: 1,
      name: 'alice',
      token: 'jwt',
      room: 'dev',
      batch: true,
    });
    expect(new ResumeState({}).handshake()).toEqual({ v: 1, room: 'lobby', batch: true });
  });

  it('sends the room log epoch with its watermark', () => {
    const state = new ResumeState({});
    state.welcomed(welcome('lobby', 't1'));
    state.seqs.synced('lobby', 7, false, 'e1');
    expect(state.handshake()).toMatchObject({ resume: 't1', since: 7, epoch: 'e1' });
  });

  it('then resumes with the latest token, the current room and its watermark', () => {
    const state = new ResumeState({ name: 'alice' });
    expect(state.welcomed(welcome('lobby', 't1'))).toBe(false);
    state.seqs.synced('lobby', 7);
    state.seqs.seen('lobby', 8);
    state.seqs.seen('lobby', 10); // not contiguous yet: since stays at 8
    expect(state.handshake()).toEqual({
      v: 1,
      name: 'alice',
      room: 'lobby',
      batch: true,
      resume: 't1',
      since: 8,
    });
    expect(state.welcomed(welcome('lobby', 't2'))).toBe(true);
    state.room = 'dev'; // a join was acked; no synced there yet, so no since
    expect(state.handshake()).toEqual({
      v: 1,
      name: 'alice',
      room: 'dev',
      batch: true,
      resume: 't2',
    });
  });
});
