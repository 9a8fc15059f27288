/** Every module, in the order they register. A module adds routes, jobs, event subscribers and
 * readiness checks to the AppContext; modules talk to each other through services and events. */
import type { AppContext } from '../context.js';
import { registerIdentity } from './identity.js';
import { registerModels } from './models/register.js';
import { registerMessaging } from './notifications/register.js';
import { registerSystem } from './system/register.js';
import { registerMoney } from './wallet/register.js';

export async function registerModules(context: AppContext): Promise<void> {
  await registerSystem(context);
  registerIdentity(context);
  registerModels(context);
  registerMoney(context);
  registerMessaging(context);
}
