import { randomBytes } from 'node:crypto';

/**
 * A new random epoch (12 characters of base64url): names one room log, or one life of the
 * broker's data. Random rather than counted, so that a broker that lost its data cannot hand
 * out an old value again.
 */
export function newEpoch(): string {
  return randomBytes(9).toString('base64url');
}
