/** /me, /me/settings and the admin user list. */
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import { fetchPage, pageOf, PageQuery } from '../../http/pagination.js';
import { presentMe } from './present.js';
import { AdminUpdateUser, Me, UpdateMe, UserIdParams, UserSettings } from './schema.js';
import { changeUserAccess, getSettings, getUser, putSettings, updateProfile } from './service.js';

export function registerUserRoutes({ api, db }: AppContext): void {
  api.route(
    { method: 'get', path: '/me', summary: 'The signed-in user', tag: 'Users', access: 'user', response: Me },
    async ({ actor }) => presentMe(await getUser(db.kysely, actor.userId)),
  );

  api.route(
    {
      method: 'patch',
      path: '/me',
      summary: 'Update your profile (a new email starts unverified)',
      tag: 'Users',
      access: 'user',
      body: UpdateMe,
      response: Me,
    },
    async ({ actor, body }) => presentMe(await db.write((tx) => updateProfile(tx, actor.userId, body))),
  );

  api.route(
    { method: 'get', path: '/me/settings', summary: 'Your notification preferences and display settings', tag: 'Users', access: 'user', response: UserSettings },
    async ({ actor }) => getSettings(db.kysely, actor.userId),
  );

  api.route(
    {
      method: 'put',
      path: '/me/settings',
      summary: 'Replace your settings (omitted keys take their defaults)',
      tag: 'Users',
      access: 'user',
      body: UserSettings,
      response: UserSettings,
    },
    async ({ actor, body }) => db.write((tx) => putSettings(tx, actor.userId, body)),
  );

  api.route(
    {
      method: 'get',
      path: '/admin/users',
      summary: 'Search and page through users',
      tag: 'Admin',
      access: 'admin',
      query: PageQuery.extend({
        q: z.string().max(100).optional(),
        role: z.enum(['user', 'admin']).optional(),
        active: z.enum(['true', 'false']).transform((v) => v === 'true').optional(),
      }),
      response: pageOf(Me),
    },
    async ({ query }) => {
      let q = db.kysely.selectFrom('users').selectAll();
      if (query.role) q = q.where('role', '=', query.role);
      if (query.active !== undefined) q = q.where('active', '=', query.active ? 1 : 0);
      if (query.q) {
        // % and _ in the search text act as wildcards; harmless for an admin search box.
        const like = `%${query.q}%`;
        q = q.where((eb) =>
          eb.or([
            eb('address', 'like', like),
            eb('username', 'like', like),
            eb('display_name', 'like', like),
            eb('email', 'like', like),
          ]),
        );
      }
      return fetchPage(q, query, presentMe);
    },
  );

  api.route(
    {
      method: 'patch',
      path: '/admin/users/:id',
      summary: "Change a user's role or deactivate them (takes effect immediately)",
      tag: 'Admin',
      access: 'admin',
      params: UserIdParams,
      body: AdminUpdateUser,
      response: Me,
    },
    async ({ actor, params, body, ctx }) => presentMe(await db.write((tx) => changeUserAccess(tx, actor, params.id, body, ctx.ip))),
  );
}
