// as-pect config that runs only the spec files named in ASP_ONLY (comma-separated globs), for
// running one filter's specs without the whole suite: ASP_ONLY='assembly/__tests__/regex.spec.ts' npx asp --config filters/steering/as-pect.only.config.js
import base from '../../as-pect.config.js';

export default { ...base, entries: (process.env.ASP_ONLY ?? '').split(',').filter(Boolean) };
