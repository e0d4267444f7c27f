import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendError } from './answers';

export type AdminHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** One admin route: read-only routes are open, changing ones pass the token check first (see server.ts). */
export interface AdminRoute {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  readonly path: string;
  readonly changes: boolean;
  readonly handle: AdminHandler;
}

/**
 * A router of exact paths (no parameters yet), built once at start: a known path with another method is
 * 405 with Allow (RFC 9110 section 15.5.6), an unknown one 404, both in JSON. GET routes answer HEAD too
 * (RFC 9110 section 9.3.2). The query string is ignored. `guard` runs before a changing route and may answer
 * instead of it.
 */
export function createRouter(routes: readonly AdminRoute[], guard: (req: IncomingMessage, res: ServerResponse, route: AdminRoute) => boolean): AdminHandler {
  const byPath = new Map<string, Map<string, AdminRoute>>();
  for (const route of routes) {
    const methods = byPath.get(route.path) ?? new Map<string, AdminRoute>();
    methods.set(route.method, route);
    if (route.method === 'GET') methods.set('HEAD', route);
    byPath.set(route.path, methods);
  }
  return (req, res) => {
    const target = req.url ?? '/';
    const query = target.indexOf('?');
    const methods = byPath.get(query === -1 ? target : target.slice(0, query));
    if (methods === undefined) return sendError(res, 404, 'not_found', `no admin route ${JSON.stringify(target.slice(0, 200))}`);
    const route = methods.get(req.method ?? '');
    if (route === undefined) {
      const allow = [...methods.keys()].join(', ');
      return sendError(res, 405, 'method_not_allowed', `this admin route takes ${allow}`, { allow });
    }
    if (route.changes && !guard(req, res, route)) return;
    route.handle(req, res);
  };
}
