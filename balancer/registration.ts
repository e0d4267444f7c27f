import { z } from 'zod';

/**
 * The syntax of a worker's url: plain http://host:port, nothing else. Returns the normalised origin
 * and the host to judge (balancer/worker-address.ts decides which addresses it may stand for), or why
 * it was refused. https:// is refused here, as a value, because the upstream pool speaks plain HTTP
 * only (TLS to workers comes later); refusing it later, inside the registry, was a 500.
 */
export function checkWorkerUrl(raw: string): { origin: string; hostname: string } | { problem: string } {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { problem: 'url is not a valid URL' };
  }
  if (url.protocol === 'https:') return { problem: 'https:// workers are not supported yet; register an http:// url' };
  if (url.protocol !== 'http:') return { problem: 'url must use http' };
  if (url.username || url.password) return { problem: 'url must not carry credentials' };
  if (url.search || url.hash || !/^[a-z]+:\/\/[^/]+\/?$/i.test(raw)) return { problem: 'url must be scheme://host:port with no path, query or fragment' };
  return { origin: url.origin, hostname: url.hostname.replace(/^\[|\]$/g, '') };
}

const signedFields = {
  timestamp: z.number().int().nonnegative(),
  nonce: z.string().regex(/^[0-9a-fA-F]{16,128}$/, 'nonce must be 16-128 hex characters'),
};

/** The weights a worker may register with, and an operator may set (PUT /admin/workers/:worker/weight). */
export const workerWeight = z.number().int().min(1).max(1000);

export const registrationSchema = z.object({
  url: z.string().max(2048),
  name: z.string().min(1).max(128),
  weight: workerWeight.default(1),
  ...signedFields,
});

export const deregistrationSchema = z.object({
  url: z.string().max(2048),
  name: z.string().max(128).optional(),
  ...signedFields,
});

/** The first problem zod found, as one sentence naming the field. */
export function describeSchemaError(error: z.ZodError): string {
  const issue = error.issues[0];
  const field = issue.path.join('.') || 'body';
  return `${field}: ${issue.message}`;
}
