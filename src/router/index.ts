/**
 * h13/router: a local emulation of Heroku's HTTP router in front of any app.
 * See docs/router.md.
 */

export type { RouterCodeName, RouterLevel, SockPrefix } from '../core/codes.js';
export type { LogFormat, LogSink } from '../core/log-sink.js';
export type { RouterFlavor, RouterRecord } from '../core/router-line.js';
export { formatRouterMessage, parseRouterMessage } from '../core/router-line.js';
export type { ConnectFunction } from './dyno-pool.js';
export { DYNO_STATES, type Dyno, type DynoState, DynoTable, staticDynos } from './dynos.js';
export { ERROR_PAGE, ERROR_PAGE_BYTES } from './error-page.js';
export { bufferedLines } from './line-buffer.js';
export { HEROKU_TIMERS, ROUTER_OPTIONS, type RouterTimers, timersFrom } from './options.js';
export { PHASES, type Phase, TRANSITIONS } from './phases.js';
export { type RouterHandle, type RouterOptions, startRouter } from './router.js';
