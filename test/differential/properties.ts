/**
 * The three differential properties of issue 11's guardrails, each a function from input bytes (and
 * where they are cut into reads) to the list of divergences found: empty when ours agrees with llhttp.
 */
export { cut } from './compare';
export { requestDivergences } from './request-properties';
export { responseDivergences } from './response-properties';
