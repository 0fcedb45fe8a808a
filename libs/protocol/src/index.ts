export {
  dmHasEarlier,
  dmPageNotice,
  EARLIER_PAGE,
  EarlierDms,
  EarlierPages,
} from './earlier-pages';
export * from './errors';
export * from './events';
export { INVISIBLE, isBlank } from './invisible';
export { leftText } from './leave-reason';
export * from './limits';
export { nameKey, skeleton } from './name-key';
export { quietText } from './quiet-room';
export { validateName } from './names';
export type { Result } from './result';
export { sanitize } from './sanitize';
export { SeqTracker } from './seq-tracker';
export { validateText } from './text';
export * from './validate';
export * from './version';
