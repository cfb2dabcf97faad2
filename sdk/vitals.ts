import { onCLS, onFCP, onINP, onLCP, onTTFB, type Metric } from 'web-vitals';

/**
 * Reports LCP, INP, CLS, FCP and TTFB through `vital`, each once per page (the first value web-vitals
 * reports: CLS and INP are final when the page is first hidden). Built as a lazy chunk: `dist/cjm.vitals.js`
 * for the tag, a dynamic `import()` chunk for the ESM module.
 */
export const vitals = (vital: (name: string, value: number) => void): void => {
  const seen: Record<string, 1> = {};
  const report = (m: Metric) => {
    if (!seen[m.name]) {
      seen[m.name] = 1;
      try {
        vital(m.name, m.value);
      } catch {}
    }
  };
  [onCLS, onFCP, onINP, onLCP, onTTFB].forEach((f) => f(report));
};
