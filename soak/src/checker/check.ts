import type { Entry } from '../history';
import { checkConvergence } from './convergence';
import { checkDms } from './dms';
import { HistoryModel } from './model';
import { checkPresence } from './presence';
import { checkRooms } from './rooms';
import type { Violation } from './violation';

/** Every violation in `history`, in history order. Knows the protocol, not the gateway. */
export function check(history: readonly Entry[]): Violation[] {
  const model = new HistoryModel(history);
  return [
    ...checkRooms(model),
    ...checkDms(model),
    ...checkPresence(model),
    ...checkConvergence(model),
  ].sort((a, b) => a.at - b.at);
}
