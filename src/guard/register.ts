/**
 * `node --import h13/register app.js`: every http.Server the app starts listening is guarded,
 * without a code change. Options come from H13_GUARD (a JSON object of guard options), and are
 * validated here, at startup, so a typo stops the app with a clear message instead of running
 * unguarded.
 */

import { guard, isGuarded } from './index.js';
import { guardEveryListen } from './listen-patch.js';
import { optionsFromEnv, resolveOptions } from './options.js';

const options = optionsFromEnv(process.env);
resolveOptions(options);
guardEveryListen(guard, isGuarded, options);
