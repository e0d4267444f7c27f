/**
 * Puts String.prototype's properties back into V8's fast (map-described) form after ioredis has loaded.
 *
 * Why: ioredis's RESP3 decoder declares `class VerbatimString extends String`. V8 turns the
 * prototype a class extends into a dictionary of properties, and makes it fast again only when an IC
 * loads a property through an object that has it on its chain. The request path calls String methods
 * on primitive strings, whose loads never do that; with String.prototype a dictionary, TurboFan cannot
 * inline `s.indexOf`, `s.charCodeAt` and the like, and each becomes a call to the generic LoadIC:
 * about a third more instructions per proxied request with REDIS_URL set (docs/performance.md,
 * "Loading ioredis"). A load through a String wrapper object, from a function called often enough
 * for V8 to give it feedback (it allocates feedback lazily, after a few calls), is such a load.
 *
 * Contract: called once, right after ioredis is loaded (redis-client.ts). Changes no property and no
 * behaviour, only V8's representation; test/integration/ioredis-only-with-redis-url.test.ts checks with
 * V8's own %HasFastProperties that it still works on the Node in use.
 */
export function refastenStringPrototype(): void {
  // A String object on purpose: a primitive's loads do not count.
  const wrapper = Object('') as object & { indexOf: unknown };
  const load = (): string => typeof wrapper.indexOf;
  for (let i = 0; i < 64; i++) load();
}
