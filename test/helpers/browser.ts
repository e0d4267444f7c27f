import { chromium, type Browser } from 'playwright-core';

/** Debian's chromium package; .ci/run installs it when missing. playwright-core downloads no browser. */
export const CHROMIUM = '/usr/bin/chromium';

/** A headless chromium; as root (CI, containers) its sandbox cannot start, so it runs without. The caller closes it. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: process.getuid?.() === 0 ? ['--no-sandbox'] : [] });
}
