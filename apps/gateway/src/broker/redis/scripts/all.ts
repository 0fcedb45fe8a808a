import { CHECK_IN, LOSS_WITNESSED, NEXT_USER_ID, RAISE_COUNTER } from './broker-identity';
import { ADMIT_ROOM, DM_TOUCH, GIVE_BACK, TAKE } from './cluster';
import type { LoadableScript } from './lua-script';
import { DM_APPEND, DM_MARK, DM_RAISE, DM_RECIPIENT } from './dm-log';
import { EXPIRED_NODES, HEARTBEAT, LOCK_REAP } from './node-leases';
import { APPEND, PUBLISH_ONCE, RAISE, RANGE } from './room-log';
import { RANGE_PAGE } from './room-page';
import { RECOVERING } from './recovery';
import {
  CLAIM_NAME,
  ENTER_ROOM,
  EXIT_ROOM,
  OPEN_SESSION,
  RENEW_NAMES,
  SHARE_RESUME_KEYS,
  SUBJECT_USER,
} from './sessions';

/** Every script, loaded on each connection's every `ready` (explicit: no import-order magic). */
export const ALL_SCRIPTS: readonly LoadableScript[] = [
  APPEND,
  PUBLISH_ONCE,
  RANGE,
  RANGE_PAGE,
  RAISE,
  SUBJECT_USER,
  CLAIM_NAME,
  RENEW_NAMES,
  OPEN_SESSION,
  ENTER_ROOM,
  EXIT_ROOM,
  HEARTBEAT,
  EXPIRED_NODES,
  LOCK_REAP,
  CHECK_IN,
  LOSS_WITNESSED,
  RAISE_COUNTER,
  NEXT_USER_ID,
  RECOVERING,
  DM_APPEND,
  DM_MARK,
  DM_RAISE,
  DM_RECIPIENT,
  TAKE,
  GIVE_BACK,
  ADMIT_ROOM,
  DM_TOUCH,
  SHARE_RESUME_KEYS,
];
