/**
 * `h13`: the guard, the library most apps import, and the error type every part throws. The
 * router and dyno manager are in `h13/router`; `h13/register` guards every server of an app
 * from `node --import`; `h13/cluster` runs WEB_CONCURRENCY workers.
 */

export type { ErrorCode } from './core/errors.js';
export { ERROR_CODES, H13Error, isH13Error } from './core/errors.js';
export * from './guard/index.js';
