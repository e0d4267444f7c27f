import { defaultClientCap, softDescriptorLimit } from '../../../../balancer/listener/descriptor-budget';

const LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max open files            4096                 524288               files
Max locked memory         8388608              8388608              bytes
`;

describe('softDescriptorLimit', () => {
  it('reads the soft limit, not the hard one, from /proc/self/limits', () => {
    expect(softDescriptorLimit(() => LIMITS)).toBe(4096);
  });

  it('reads unlimited as no practical limit', () => {
    expect(softDescriptorLimit(() => LIMITS.replace('4096  ', 'unlimited'))).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('is undefined when the file cannot be read or has no such line', () => {
    expect(
      softDescriptorLimit(() => {
        throw new Error('ENOENT');
      }),
    ).toBeUndefined();
    expect(softDescriptorLimit(() => 'Max cpu time unlimited unlimited seconds\n')).toBeUndefined();
  });

  it("reads this process's own limit on Linux", () => {
    if (process.platform !== 'linux') return;
    expect(softDescriptorLimit()).toBeGreaterThan(0);
  });
});

describe('defaultClientCap', () => {
  it('keeps a tenth of the descriptors in reserve and halves the rest (one worker socket per client)', () => {
    expect(defaultClientCap(1024)).toBe(Math.floor((1024 - 102) / 2));
    expect(defaultClientCap(1_048_576)).toBe(Math.floor((1_048_576 - 104_857) / 2));
  });

  it('keeps at least 64 in reserve on a small limit, and never goes below one connection', () => {
    expect(defaultClientCap(256)).toBe(96);
    expect(defaultClientCap(10)).toBe(1);
  });
});
