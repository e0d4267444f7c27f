/** What a pattern made of a request path: its decoded parameters, or why a parameter could not be read. */
export type PatternMatch = { readonly params: Readonly<Record<string, string>> } | { readonly malformed: string } | undefined;

/**
 * An admin route path with `:name` segments (`/admin/workers/:worker/drain`), compiled once at start.
 * A parameter matches one whole, non-empty segment and is percent-decoded once (RFC 3986 section 2.1),
 * so a worker's URL travels as one segment with its `/` and `:` encoded; a segment that is not valid
 * percent-encoding is reported, for the router to refuse (400), never guessed at. Literal segments are
 * compared as sent, as the router's exact paths are: `/admin/%77orkers` is not `/admin/workers`.
 */
export class PathPattern {
  private readonly segments: readonly string[];

  constructor(readonly path: string) {
    this.segments = path.split('/');
    const names = this.segments.filter(isParameter).map((s) => s.slice(1));
    if (names.some((n) => n === '') || new Set(names).size !== names.length) throw new Error(`admin route ${path}: parameters need distinct names`);
  }

  /** Whether `path` has parameters at all (else the router looks it up as an exact path). */
  static hasParameters(path: string): boolean {
    return path.split('/').some(isParameter);
  }

  /** Called by the router for each admin request no exact path took; O(segments), no regular expression. */
  match(path: string): PatternMatch {
    const parts = path.split('/');
    if (parts.length !== this.segments.length) return undefined;
    const params: Record<string, string> = {};
    for (let i = 0; i < parts.length; i++) {
      const segment = this.segments[i];
      if (!isParameter(segment)) {
        if (parts[i] !== segment) return undefined;
      } else if (parts[i] === '') {
        return undefined;
      } else {
        const value = decodeSegment(parts[i]);
        if (value === undefined) return { malformed: segment.slice(1) };
        params[segment.slice(1)] = value;
      }
    }
    return { params };
  }
}

function isParameter(segment: string): boolean {
  return segment.startsWith(':');
}

function decodeSegment(raw: string): string | undefined {
  try {
    return decodeURIComponent(raw);
  } catch {
    return undefined; // URIError: a lone %, a bad hex pair, or bytes that are not UTF-8
  }
}
