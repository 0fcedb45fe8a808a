import { chatError, type ChatError, type UserRef } from '@chat/protocol';
import type { ClusterState } from '../broker/cluster-state';

/**
 * The refusal of a name another user holds. Usually final (`retryable: false`). When the holder
 * is a connection that dropped and is waiting out its grace period, and the newcomer comes from
 * the same address, it is most likely that user reconnecting without `resume` (a lost goodbye
 * packet): then the refusal says so and is retryable after `retryInMs`, when the name frees up.
 * An address cannot prove identity (a NAT hides many users), so nothing is taken over early: the
 * hint only tells the same-address newcomer when the name frees up; anyone else hears "taken".
 * With authentication the user is its subject: when nobody else holds the name, the refusal
 * is the one-name rule (the subject is online under another name), and it says so.
 */
export async function nameTaken(
  state: ClusterState,
  user: UserRef,
  address: string,
  anonymous: boolean,
  now = Date.now(),
): Promise<ChatError> {
  const refusal = chatError('NAME_TAKEN', `the name '${user.name}' is taken`);
  if (!anonymous) {
    const holder = await state.findUser(user.name).catch(() => undefined);
    if (holder && holder.id !== user.id) return refusal;
    return chatError(
      'NAME_TAKEN',
      `you are online under another name; one user has one name at a time (quit it to use '${user.name}')`,
    );
  }
  const hold = await state.nameHold(user.name).catch(() => undefined);
  if (!hold || hold.address !== address || hold.userId === user.id) return refusal;
  const retryInMs = Math.max(0, hold.until - now);
  const seconds = Math.ceil(retryInMs / 1000);
  return {
    ...refusal,
    message: `the name '${user.name}' is held by your previous connection for up to ${seconds} s; retry (or reconnect with resume)`,
    retryable: true,
    retryInMs,
  };
}
