/**
 * `h13`: the guard, the library most apps import. The router and dyno manager are in
 * `h13/router`; `h13/register` guards every server of an app from `node --import`;
 * `h13/cluster` runs WEB_CONCURRENCY workers.
 */

export * from './guard/index.js';
