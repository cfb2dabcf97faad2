/**
 * The URL path patterns of stage rules (`**\/cart*`, `/checkout/**`), matched in linear time: `*` matches any run of
 * characters within one path segment (no `/`), `**` any run across segments, everything else itself, ignoring case.
 *
 * A backtracking regex (`.*` / `[^/]*`) takes exponential time on adversarial input (`**-**-**-**-**-x` against a
 * 150-character path froze the event loop for 10 s). This matcher simulates the pattern as an automaton instead:
 * one pass over the path, keeping the set of pattern positions reachable so far as a bit set (Shift-And, with the
 * stars as self-loops), so a match costs (path length × pattern length / 32) word operations whatever the input, and
 * stops as soon as no position is reachable.
 */

/**
 * Compiles a pattern into a matcher of paths.
 *
 * @example
 * const m = globMatcher('**\/cart*')
 * m('/shop/cart') // true
 * m('/shop/cart/x') // false: `*` stays within the last segment
 */
export const globMatcher = (pattern: string): ((path: string) => boolean) => {
  // Tokens: a literal character, `*` (within a segment), or a run of stars holding `**` (across segments: `**` then
  // `*` matches exactly what `**` matches). Runs are merged, so no two star tokens are adjacent.
  const kinds: Array<'char' | 'star' | 'globstar'> = [];
  const chars: string[] = [];
  for (let i = 0; i < pattern.length;) {
    if (pattern[i] === '*') {
      let j = i;
      while (pattern[j] === '*') j++;
      kinds.push(j - i >= 2 ? 'globstar' : 'star');
      chars.push('');
      i = j;
    } else {
      kinds.push('char');
      chars.push((pattern[i] as string).toLowerCase());
      i++;
    }
  }
  // State i (bit i): the first i tokens are matched; state n: the whole pattern.
  const n = kinds.length;
  const words = (n >> 5) + 1;
  const bit = (set: Uint32Array, i: number) => {
    set[i >> 5]! |= 1 << (i & 31);
  };
  const stars = new Uint32Array(words); // `*` tokens: loop on any character but `/`
  const globstars = new Uint32Array(words); // `**` tokens: loop on any character
  const literal = new Map<string, Uint32Array>(); // character → the literal tokens that match it
  for (let i = 0; i < n; i++) {
    if (kinds[i] === 'star') bit(stars, i);
    else if (kinds[i] === 'globstar') bit(globstars, i);
    else {
      const c = chars[i] as string;
      let mask = literal.get(c);
      if (!mask) literal.set(c, (mask = new Uint32Array(words)));
      bit(mask, i);
    }
  }
  const loops = new Uint32Array(words);
  for (let w = 0; w < words; w++) loops[w] = (stars[w] as number) | (globstars[w] as number);
  // A star token may match nothing: state i of a star also reaches i + 1 (one step: stars are never adjacent).
  const close = (set: Uint32Array) => {
    let carry = 0;
    for (let w = 0; w < words; w++) {
      const moved = (set[w] as number) & (loops[w] as number);
      const next = (moved << 1) | carry;
      carry = moved >>> 31;
      set[w] = (set[w] as number) | next;
    }
  };

  return (path: string): boolean => {
    let cur = new Uint32Array(words);
    let next = new Uint32Array(words);
    cur[0] = 1;
    close(cur);
    const text = path.toLowerCase();
    for (let p = 0; p < text.length; p++) {
      const ch = text[p] as string;
      const lit = literal.get(ch);
      const self = ch === '/' ? globstars : loops;
      let carry = 0;
      let alive = 0;
      for (let w = 0; w < words; w++) {
        const c = cur[w] as number;
        const stepped = lit ? c & (lit[w] as number) : 0; // a literal consumed: i → i + 1
        const v = ((stepped << 1) | carry | (c & (self[w] as number))) >>> 0; // or a star consumed it: i → i
        carry = stepped >>> 31;
        next[w] = v;
        alive |= v;
      }
      if (alive === 0) return false;
      close(next);
      [cur, next] = [next, cur];
    }
    return (((cur[n >> 5] as number) >>> (n & 31)) & 1) === 1;
  };
};
