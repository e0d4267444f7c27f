import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendError } from './answers';
import { PathPattern } from './path-pattern';

/** A route's `:name` parameters, percent-decoded; empty for an exact path. */
export type RouteParams = Readonly<Record<string, string>>;

export type AdminHandler = (req: IncomingMessage, res: ServerResponse, params: RouteParams) => void;

/** One admin route: read-only routes are open, changing ones pass the token check first (see index.ts). */
export interface AdminRoute {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** An exact path, or one with `:name` segments (see PathPattern). */
  readonly path: string;
  readonly changes: boolean;
  readonly handle: AdminHandler;
}

type Methods = Map<string, AdminRoute>;

const NO_PARAMS: RouteParams = Object.freeze({});

/**
 * A router built once at start: exact paths by lookup first, then the patterns in the order given. A
 * known path with another method is 405 with Allow (RFC 9110 section 15.5.6), an unknown one 404, a
 * parameter that is not valid percent-encoding 400, all in JSON. GET routes answer HEAD too (RFC 9110
 * section 9.3.2). The query string is ignored. `guard` runs before a changing route and may answer instead of it.
 */
export function createRouter(
  routes: readonly AdminRoute[],
  guard: (req: IncomingMessage, res: ServerResponse, route: AdminRoute) => boolean,
): (req: IncomingMessage, res: ServerResponse) => void {
  const exact = new Map<string, Methods>();
  const patterns = new Map<string, { pattern: PathPattern; methods: Methods }>();
  for (const route of routes) {
    let methods: Methods;
    if (PathPattern.hasParameters(route.path)) {
      const entry = patterns.get(route.path) ?? { pattern: new PathPattern(route.path), methods: new Map<string, AdminRoute>() };
      patterns.set(route.path, entry);
      methods = entry.methods;
    } else {
      methods = exact.get(route.path) ?? new Map<string, AdminRoute>();
      exact.set(route.path, methods);
    }
    methods.set(route.method, route);
    if (route.method === 'GET') methods.set('HEAD', route);
  }
  const find = (path: string): { methods: Methods; params: RouteParams } | { malformed: string } | undefined => {
    const methods = exact.get(path);
    if (methods !== undefined) return { methods, params: NO_PARAMS };
    for (const entry of patterns.values()) {
      const match = entry.pattern.match(path);
      if (match === undefined) continue;
      return 'malformed' in match ? match : { methods: entry.methods, params: match.params };
    }
    return undefined;
  };
  return (req, res) => {
    const target = req.url ?? '/';
    const query = target.indexOf('?');
    const found = find(query === -1 ? target : target.slice(0, query));
    if (found === undefined) return sendError(res, 404, 'not_found', `no admin route ${JSON.stringify(target.slice(0, 200))}`);
    if ('malformed' in found)
      return sendError(res, 400, 'malformed_path', `the ${found.malformed} segment is not valid percent-encoding (RFC 3986 section 2.1)`);
    const route = found.methods.get(req.method ?? '');
    if (route === undefined) {
      const allow = [...found.methods.keys()].join(', ');
      return sendError(res, 405, 'method_not_allowed', `this admin route takes ${allow}`, { allow });
    }
    if (route.changes && !guard(req, res, route)) return;
    route.handle(req, res, found.params);
  };
}
