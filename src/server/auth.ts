import { createHash, timingSafeEqual } from 'node:crypto';
import { ConfigError } from '../core/errors.js';

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost', '::ffff:127.0.0.1']);

/** True for addresses that only this machine can reach. */
export function isLoopback(host: string): boolean {
  return LOOPBACK.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * Refuses to expose the server beyond this machine without a token: binding a non-loopback host
 * (e.g. `0.0.0.0`) needs `token`.
 */
export function checkExposure(host: string, token: string | undefined): void {
  if (!isLoopback(host) && !token) {
    throw new ConfigError(`serve: host '${host}' is reachable from other machines; pass --token (or AKIN_TOKEN) to require a bearer token, or bind 127.0.0.1`);
  }
  if (token !== undefined && token.length < 8) throw new ConfigError(`serve: 'token' must be at least 8 characters`);
}

/**
 * A constant-time token check: both sides are hashed (so lengths never leak through an early exit)
 * and compared with `crypto.timingSafeEqual`.
 */
export function tokenMatcher(token: string): (presented: string | undefined) => boolean {
  const want = createHash('sha256').update(token, 'utf8').digest();
  return (presented) => {
    const got = createHash('sha256').update(presented ?? '', 'utf8').digest();
    return timingSafeEqual(want, got) && presented !== undefined;
  };
}

/** The token a request presents: `Authorization: Bearer T` or `x-akin-token: T`. */
export function presentedToken(headers: Record<string, string | string[] | undefined>): string | undefined {
  const auth = headers.authorization;
  if (typeof auth === 'string' && auth.startsWith('Bearer ')) return auth.slice(7);
  const x = headers['x-akin-token'];
  return typeof x === 'string' ? x : undefined;
}
