import { randomFillSync } from 'node:crypto';

/** Bytes of randomness in one epoch (12 characters of base64url). */
const EPOCH_BYTES = 9;
/** Epochs' worth of randomness drawn at once: one system call per 256 appends. @default 256 */
const POOL_EPOCHS = 256;

const pool = Buffer.alloc(EPOCH_BYTES * POOL_EPOCHS);
let used = pool.length;

/**
 * A new random epoch (12 characters of base64url): names one room log, or one life of the
 * broker's data. Random rather than counted, so that a broker that lost its data cannot hand
 * out an old value again. Every room append offers one (used only when the log needs a new
 * epoch), so the bytes come from a pool refilled 256 epochs at a time; each is used once.
 */
export function newEpoch(): string {
  if (used === pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  const epoch = pool.toString('base64url', used, used + EPOCH_BYTES);
  used += EPOCH_BYTES;
  return epoch;
}
