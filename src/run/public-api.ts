/**
 * `h13/router`: the emulated router and dyno manager as a library. Start a router in front of
 * apps already running (`startRouter` + `staticDynos`), or apps and router together
 * (`startRun`); every finished request arrives as a typed `RouterRecord`.
 */

export type { RouterCode, RouterCodeName, RouterLevel } from '../core/codes.js';
export { ROUTER_CODES } from '../core/codes.js';
export type { ErrorCode } from '../core/errors.js';
export { ERROR_CODES, H13Error, isH13Error } from '../core/errors.js';
export type { LogEntry, LogFormat, LogSink } from '../core/log-sink.js';
export { createLogSink } from '../core/log-sink.js';
export type { RouterFlavor, RouterRecord } from '../core/router-line.js';
export { formatRouterMessage, parseRouterMessage } from '../core/router-line.js';
export type { Dyno, DynoState } from '../router/dynos.js';
export { DynoTable, staticDynos } from '../router/dynos.js';
export type { RouterHandle, RouterOptions } from '../router/index.js';
export { startRouter } from '../router/index.js';
export { bufferedLines } from '../router/line-buffer.js';
export type { RouterTimers } from '../router/options.js';
export { HEROKU_TIMERS } from '../router/options.js';
export type { Isolation } from './dyno-scope.js';
export type { RunHandle, RunOptions } from './index.js';
export { startRun } from './index.js';
export { RUN_OPTIONS } from './options.js';
