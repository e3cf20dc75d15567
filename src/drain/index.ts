/** h13 drain: a live service that diagnoses every H13 from a Heroku log drain. */

export { COUNTERS } from './counters.js';
export { DRAIN_OPTIONS, type DrainOptions } from './options.js';
export { ROUTES } from './routes.js';
export { type Drain, startDrain } from './server.js';
export type { Store } from './store.js';
