/**
 * What the tag knows about the device: storage (localStorage, or memory when it is off or throws),
 * random ids and consent (GPC, DNT, a persisted opt-out/opt-in).
 */

/** Key/value storage: localStorage, or memory. */
export interface Store {
  /** The value of `key`; null or undefined when there is none. */
  _get(key: string): string | null | undefined;
  /** Writes `value` under `key` ('' removes the key), and returns it. */
  _set(key: string, value: string): string;
  /** The keys that start with `prefix`, sorted (of localStorage, or of memory). */
  _keys(prefix: string): string[];
}

/**
 * localStorage when `local` is true, every value mirrored in memory. If localStorage throws (storage
 * disabled, private mode, quota), the store keeps to memory for the rest of the page.
 */
export const store = (local: boolean): Store => {
  const memory: Record<string, string | null> = {};
  /** Runs `f` on localStorage unless it is off; its first exception turns it off. */
  const storage = (f: (ls: Storage) => unknown) => {
    try {
      if (local) f(localStorage);
    } catch {
      local = false;
    }
  };
  return {
    _get: (key) => {
      storage((ls) => (memory[key] = ls.getItem(key)));
      return memory[key];
    },
    _set: (key, value) => {
      if (value) memory[key] = value;
      else delete memory[key];
      storage((ls) => (value ? ls.setItem(key, value) : ls.removeItem(key)));
      return value;
    },
    // Callers read or write a key before they list (the tracker reads consent first), so a throwing localStorage
    // has turned the store to memory by then.
    _keys: (prefix) =>
      Object.keys(local ? localStorage : memory)
        .filter((key) => key.startsWith(prefix))
        .sort(),
  };
};

/** A random id: crypto.randomUUID (secure contexts), else Math.random digits and Date.now (~30 digits). */
export const uid = (): string => crypto.randomUUID?.() || String(Math.random()).slice(2) + Date.now();

/** Global Privacy Control or Do Not Track is on. */
export const dnt = (): boolean =>
  (navigator as Navigator & { globalPrivacyControl?: boolean }).globalPrivacyControl || navigator.doNotTrack == '1';

/** localStorage keys: the visitor id, and consent ('1' opted in, '0' opted out). */
export const VISITOR = 'cjm.v';
export const CONSENT = 'cjm.c';

/**
 * May we track? An explicit choice (`optIn`/`optOut`, persisted) wins; without one, GPC/DNT mean
 * "send nothing, store nothing" unless `respectDnt` is false.
 */
export const consent = (st: Store, respectDnt: boolean): boolean => {
  const choice = st._get(CONSENT);
  return choice ? choice == '1' : !(respectDnt && dnt());
};

/** The visitor id, created on first use. */
export const visitor = (st: Store): string => st._get(VISITOR) || st._set(VISITOR, uid());
