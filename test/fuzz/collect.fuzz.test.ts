// 10,000 fuzz inputs in `npm test`; the full 100,000 run in `npm run test:faults` (test/faults/fuzz.fault.ts).
import { fuzzSuite } from './suite';

fuzzSuite(Number(process.env.CJM_FUZZ_RUNS ?? 10_000));
