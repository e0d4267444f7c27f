import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** One input of a public corpus (see fixtures/README.md). */
export interface FixtureCase {
  /** llhttp: the markdown file and line it came from. */
  source: string;
  name: string;
  input: string;
}

export interface GadgetCase {
  /** smuggler's config and mutation name. */
  name: string;
  /** The header line(s) the scanner puts after the request line. */
  gadget: string;
}

function load<T>(file: string): T[] {
  return (JSON.parse(readFileSync(join(__dirname, 'fixtures', file), 'latin1')) as { cases: T[] }).cases;
}

export const llhttpRequests = load<FixtureCase>('llhttp-requests.json');
export const llhttpResponses = load<FixtureCase>('llhttp-responses.json');
export const smugglerGadgets = load<GadgetCase>('smuggler-te-gadgets.json');
