/**
 * The URL path patterns of stage rules (`**\/cart*`, `/checkout/**`), matched in linear time: `*` matches any run of
 * characters within one path segment (no `/`), `**` any run across segments, everything else itself, ignoring case.
 *
 * A backtracking regex (`.*` / `[^/]*`) takes exponential time on adversarial input (`**-**-**-**-**-x` against a
 * 150-character path froze the event loop for 10 s). This matcher simulates the pattern as an automaton instead:
 * one pass over the path, keeping the set of pattern positions reachable so far, so a match costs at most
 * (path length × pattern length) steps whatever the input, and stops as soon as no position is reachable.
 */

const LITERAL = 0;
const STAR = 1; // `*`: within a segment
const GLOBSTAR = 2; // `**` (or any run of stars holding one): across segments

/** A compiled pattern: `kinds[i]` and, for literals, the lower-cased character `chars[i]`. */
interface Compiled {
  kinds: Uint8Array;
  chars: string[];
}

const compile = (pattern: string): Compiled => {
  const kinds: number[] = [];
  const chars: string[] = [];
  for (let i = 0; i < pattern.length;) {
    if (pattern[i] === '*') {
      let j = i;
      while (pattern[j] === '*') j++;
      // A run of stars: `*` alone stays within a segment; any run holding `**` crosses segments (`**` then `*`
      // matches exactly what `**` matches).
      kinds.push(j - i >= 2 ? GLOBSTAR : STAR);
      chars.push('');
      i = j;
    } else {
      kinds.push(LITERAL);
      chars.push((pattern[i] as string).toLowerCase());
      i++;
    }
  }
  return { kinds: Uint8Array.from(kinds), chars };
};

/**
 * Compiles a pattern into a matcher of paths.
 *
 * @example
 * const m = globMatcher('**\/cart*')
 * m('/shop/cart') // true
 * m('/shop/cart/x') // false: `*` stays within the last segment
 */
export const globMatcher = (pattern: string): ((path: string) => boolean) => {
  const { kinds, chars } = compile(pattern);
  const n = kinds.length;
  // State i: the first i tokens are matched. A star token at i may match nothing, so state i also reaches i + 1.
  const close = (set: Uint8Array) => {
    for (let i = 0; i < n; i++) if (set[i] && kinds[i] !== LITERAL) set[i + 1] = 1;
  };
  return (path: string): boolean => {
    let cur = new Uint8Array(n + 1);
    let next = new Uint8Array(n + 1);
    cur[0] = 1;
    close(cur);
    const text = path.toLowerCase();
    for (let p = 0; p < text.length; p++) {
      const ch = text[p] as string;
      next.fill(0);
      let alive = false;
      for (let i = 0; i < n; i++) {
        if (!cur[i]) continue;
        const kind = kinds[i];
        if (kind === LITERAL) {
          if (chars[i] === ch) {
            next[i + 1] = 1;
            alive = true;
          }
        } else if (kind === GLOBSTAR || ch !== '/') {
          next[i] = 1;
          alive = true;
        }
      }
      if (!alive) return false;
      close(next);
      [cur, next] = [next, cur];
    }
    return cur[n] === 1;
  };
};
