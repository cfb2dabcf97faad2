/**
 * What the tag knows about the device: storage (localStorage, or memory when it is off or throws),
 * random ids and consent (GPC, DNT, a persisted opt-out/opt-in).
 */

/**
 * Key/value storage: `st(key)` reads, `st(key, value)` writes; `''` removes a key (readers treat it as absent).
 * `st.k(prefix)` lists the keys that start with `prefix`, sorted (of localStorage, or of the memory fallback).
 */
export type Store = ((k: string, v?: string) => string | null | undefined) & { k: (prefix: string) => string[] };

/**
 * localStorage when `local` is true, every value mirrored in memory. If localStorage throws (storage
 * disabled, private mode, quota), the store keeps to memory for the rest of the page.
 */
export const store = (local: unknown): Store => {
  const mem: Record<string, string | null | undefined> = {};
  const st = (k: string, v?: string) => {
    try {
      if (local) v == null ? (mem[k] = localStorage.getItem(k)) : localStorage[v ? 'setItem' : 'removeItem'](k, v);
    } catch {
      local = 0;
    }
    // A removed key stays in memory as '' (a few bytes per event sent; readers treat it as absent).
    return v == null ? mem[k] : (mem[k] = v);
  };
  // Callers read or write a key before they list (the tracker reads consent first), so a throwing localStorage has
  // turned the store to memory by then.
  st.k = (p: string) =>
    Object.keys(local ? localStorage : mem)
      .filter((k) => !k.indexOf(p))
      .sort();
  return st;
};

/** A random id: crypto.randomUUID (secure contexts), else Math.random digits and Date.now (~30 digits). */
export const uid = (): string => crypto.randomUUID?.() || (Math.random() + '').slice(2) + Date.now();

/** Global Privacy Control or Do Not Track is on. */
export const dnt = (): unknown => {
  const n = navigator as Navigator & { globalPrivacyControl?: boolean };
  return n.globalPrivacyControl || n.doNotTrack == '1';
};

/** localStorage keys: the visitor id, and consent ('1' opted in, '0' opted out). */
export const VISITOR = 'cjm.v';
export const CONSENT = 'cjm.c';

/**
 * May we track? An explicit choice (`optIn`/`optOut`, persisted) wins; without one, GPC/DNT mean
 * "send nothing, store nothing" unless `respectDnt` is false.
 */
export const consent = (st: Store, respectDnt: boolean): unknown => {
  const c = st(CONSENT);
  return c ? c == '1' : !(respectDnt && dnt());
};

/** The visitor id, created on first use. */
export const visitor = (st: Store): string => st(VISITOR) || st(VISITOR, uid())!;
