import { chatError } from './errors';
import type {
  DmRequest,
  Handshake,
  HistoryRequest,
  JoinRequest,
  RoomHistoryRequest,
  SearchRequest,
  SendRequest,
  WhoRequest,
} from './events';
import { LIMITS, ROOM_PATTERN } from './limits';
import { validateName } from './names';
import { bad, fail, ok, type Result } from './result';
import { validateText } from './text';
import { PROTOCOL_VERSION } from './version';

type Fields = Record<string, unknown>;

function isObject(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Room name: lower-cased, then 1-32 of `a-z0-9_-` starting with a letter or digit. */
export function validateRoom(room: unknown): Result<string> {
  if (typeof room !== 'string') return fail(chatError('INVALID_ROOM', 'room must be a string'));
  const normalized = room.toLowerCase();
  if (
    normalized.length === 0 ||
    normalized.length > LIMITS.maxRoomLength ||
    !ROOM_PATTERN.test(normalized)
  ) {
    return fail(
      chatError(
        'INVALID_ROOM',
        `room must be 1-${LIMITS.maxRoomLength} of a-z, 0-9, '_', '-', starting with a letter or digit`,
      ),
    );
  }
  return ok(normalized);
}

function validateSeq(value: unknown, field: string): Result<number> {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    return bad(`${field} must be a non-negative integer`);
  }
  return ok(value);
}

/** A room log's epoch as the gateway gave it (`synced.epoch`): 1-64 of `A-Za-z0-9_-`. */
function validateEpoch(value: unknown): Result<string> {
  if (typeof value !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(value)) {
    return bad('epoch must be 1-64 of A-Z, a-z, 0-9, _ and -');
  }
  return ok(value);
}

function optional<T>(
  fields: Fields,
  key: string,
  check: (v: unknown) => Result<T>,
): Result<T | undefined> {
  return fields[key] === undefined ? ok(undefined) : check(fields[key]);
}

export function parseSend(payload: unknown): Result<SendRequest> {
  if (!isObject(payload)) return bad('send expects { text }');
  const text = validateText(payload.text);
  if (!text.ok) return text;
  const room = optional(payload, 'room', validateRoom);
  if (!room.ok) return room;
  const cid = optional(payload, 'cid', validateCid);
  if (!cid.ok) return cid;
  const generation = parseGeneration(payload, cid.value);
  if (!generation.ok) return generation;
  const request: SendRequest = { text: text.value };
  if (room.value !== undefined) request.room = room.value;
  if (cid.value !== undefined) request.cid = cid.value;
  if (generation.value !== undefined) request.generation = generation.value;
  return ok(request);
}

function validateCid(value: unknown): Result<string> {
  if (typeof value !== 'string' || value.length === 0 || value.length > 64) {
    return bad('cid must be a string of 1-64 characters');
  }
  return ok(value);
}

export function parseJoin(payload: unknown): Result<JoinRequest> {
  if (!isObject(payload)) return bad('join expects { room, since?, epoch? }');
  const room = validateRoom(payload.room);
  if (!room.ok) return room;
  const since = optional(payload, 'since', (v) => validateSeq(v, 'since'));
  if (!since.ok) return since;
  const epoch = optional(payload, 'epoch', validateEpoch);
  if (!epoch.ok) return epoch;
  const request: JoinRequest = { room: room.value };
  if (since.value !== undefined) request.since = since.value;
  if (epoch.value !== undefined) request.epoch = epoch.value;
  return ok(request);
}

export function parseDm(payload: unknown): Result<DmRequest> {
  if (!isObject(payload)) return bad('dm expects { to, text }');
  if (typeof payload.to !== 'string') return bad('to must be a string');
  const text = validateText(payload.text);
  if (!text.ok) return text;
  const cid = optional(payload, 'cid', validateCid);
  if (!cid.ok) return cid;
  const generation = parseGeneration(payload, cid.value);
  if (!generation.ok) return generation;
  const request: DmRequest = { to: payload.to, text: text.value };
  if (cid.value !== undefined) request.cid = cid.value;
  if (generation.value !== undefined) request.generation = generation.value;
  return ok(request);
}

/** A retry's `generation` (see SendRequest.generation): an epoch, and only with a `cid`. */
function parseGeneration(fields: Fields, cid: string | undefined): Result<string | undefined> {
  const generation = optional(fields, 'generation', validateEpoch);
  if (!generation.ok || generation.value === undefined || cid !== undefined) return generation;
  return bad('generation names a retry: it needs the cid');
}

/** Most conversations a handshake's `dms` may name. */
export const MAX_DM_POSITIONS = 1_000;

function validatePositions(value: unknown): Result<Record<string, number>> {
  if (!isObject(value)) return bad('dms must be an object of conversation -> seq');
  const entries = Object.entries(value);
  if (entries.length > MAX_DM_POSITIONS)
    return bad(`dms names at most ${MAX_DM_POSITIONS} conversations`);
  const out: Record<string, number> = {};
  for (const [conversation, seq] of entries) {
    if (!/^\d{1,16}-\d{1,16}$/.test(conversation)) return bad('dms: not a conversation id');
    const valid = validateSeq(seq, 'dms seq');
    if (!valid.ok) return valid;
    out[conversation] = valid.value;
  }
  return ok(out);
}

/** Most messages one `history` page holds. */
export const MAX_HISTORY_PAGE = 200;

function validateLimit(value: unknown, max: number): Result<number> {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1 || value > max) {
    return bad(`limit must be an integer from 1 to ${max}`);
  }
  return ok(value);
}

/** `history` names a conversation (`with`) or a room (`room`), never both. */
export function parseHistory(
  payload: unknown,
): Result<({ kind: 'dm' } & HistoryRequest) | ({ kind: 'room' } & RoomHistoryRequest)> {
  if (!isObject(payload)) return bad('history expects { with } or { room }, before?, limit?');
  if (payload.with !== undefined && payload.room !== undefined) {
    return bad('history takes either with (a conversation) or room, not both');
  }
  const before = optional(payload, 'before', (v) => validateSeq(v, 'before'));
  if (!before.ok) return before;
  const limit = optional(payload, 'limit', (v) => validateLimit(v, MAX_HISTORY_PAGE));
  if (!limit.ok) return limit;
  const page = {
    ...(before.value === undefined ? {} : { before: before.value }),
    ...(limit.value === undefined ? {} : { limit: limit.value }),
  };
  if (payload.room !== undefined) {
    const room = validateRoom(payload.room);
    if (!room.ok) return room;
    const epoch = optional(payload, 'epoch', validateEpoch);
    if (!epoch.ok) return epoch;
    return ok({
      kind: 'room',
      room: room.value,
      ...page,
      ...(epoch.value === undefined ? {} : { epoch: epoch.value }),
    });
  }
  if (typeof payload.with !== 'string' || payload.with.length === 0) {
    return bad('with must be a name (or give room)');
  }
  const beforeTs = optional(payload, 'beforeTs', (v) => validateSeq(v, 'beforeTs'));
  if (!beforeTs.ok) return beforeTs;
  if (beforeTs.value !== undefined && before.value === undefined) {
    return bad('beforeTs goes with before (the seq and ts of the first message of the last page)');
  }
  return ok({
    kind: 'dm',
    with: payload.with,
    ...page,
    ...(beforeTs.value === undefined ? {} : { beforeTs: beforeTs.value }),
  });
}

/** Most messages one `search` answer holds. */
export const MAX_SEARCH_RESULTS = 100;
/** Longest `search` query, in characters. */
export const MAX_SEARCH_QUERY = 200;

export function parseSearch(payload: unknown): Result<SearchRequest> {
  if (!isObject(payload)) return bad('search expects { q, room?, limit? }');
  const { q } = payload;
  if (typeof q !== 'string' || q.trim().length === 0 || q.length > MAX_SEARCH_QUERY) {
    return bad(`q must be 1-${MAX_SEARCH_QUERY} characters of words to find`);
  }
  const room = optional(payload, 'room', validateRoom);
  if (!room.ok) return room;
  const limit = optional(payload, 'limit', (v) => validateLimit(v, MAX_SEARCH_RESULTS));
  if (!limit.ok) return limit;
  return ok({
    q: q.trim(),
    ...(room.value === undefined ? {} : { room: room.value }),
    ...(limit.value === undefined ? {} : { limit: limit.value }),
  });
}

export function parseDms(payload: unknown): Result<Record<string, never>> {
  if (payload !== undefined && !isObject(payload)) return bad('dms expects {}');
  return ok({});
}

export function parseWho(payload: unknown): Result<WhoRequest> {
  if (payload === undefined) return ok({});
  if (!isObject(payload)) return bad('who expects { room? }');
  const room = optional(payload, 'room', validateRoom);
  if (!room.ok) return room;
  return ok(room.value === undefined ? {} : { room: room.value });
}

export function parseRooms(payload: unknown): Result<Record<string, never>> {
  if (payload !== undefined && !isObject(payload)) return bad('rooms expects {}');
  return ok({});
}

/** The handshake is validated as a whole; any bad field refuses the connection. */
export function parseHandshake(auth: unknown): Result<Handshake> {
  if (auth === undefined || auth === null) return ok({});
  if (!isObject(auth)) return bad('handshake auth must be an object');
  const result: Handshake = {};
  if (auth.v !== undefined) {
    if (auth.v !== PROTOCOL_VERSION) {
      return fail(
        chatError(
          'VERSION_MISMATCH',
          `protocol version ${String(auth.v)} is not supported (this gateway speaks ${PROTOCOL_VERSION})`,
        ),
      );
    }
    result.v = PROTOCOL_VERSION;
  }
  if (auth.name !== undefined) {
    const name = validateName(auth.name);
    if (!name.ok) return name;
    result.name = name.value;
  }
  for (const key of ['token', 'resume'] as const) {
    const value = auth[key];
    if (value === undefined) continue;
    if (typeof value !== 'string' || value.length === 0 || value.length > 4096) {
      return bad(`${key} must be a non-empty string`);
    }
    result[key] = value;
  }
  if (auth.room !== undefined) {
    const room = validateRoom(auth.room);
    if (!room.ok) return room;
    result.room = room.value;
  }
  if (auth.batch !== undefined) {
    if (typeof auth.batch !== 'boolean') return bad('batch must be true or false');
    result.batch = auth.batch;
  }
  if (auth.since !== undefined) {
    const since = validateSeq(auth.since, 'since');
    if (!since.ok) return since;
    result.since = since.value;
  }
  if (auth.dms !== undefined) {
    const dms = validatePositions(auth.dms);
    if (!dms.ok) return dms;
    result.dms = dms.value;
  }
  if (auth.epoch !== undefined) {
    const epoch = validateEpoch(auth.epoch);
    if (!epoch.ok) return epoch;
    result.epoch = epoch.value;
  }
  return ok(result);
}
