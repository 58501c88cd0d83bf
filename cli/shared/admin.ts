// What a CLI says when the pool refuses an admin's command to someone who is not an admin: who may do it,
// never an error about files the user cannot read.
import { DschedError } from '../../lib/errors.js';
import type { Session } from './session.js';

export async function asAdmin<T>(session: Session, what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof DschedError && e.code === 'PERMISSION_DENIED')
      throw new DschedError('PERMISSION_DENIED', `only a pool admin may ${what}, and ${session.user} is not one`, {
        hint: `ask the pool's owner, root or a user listed in QUEUE_SUPER_USERS (${session.config.paths.config})`,
        cause: e,
      });
    throw e;
  }
}
