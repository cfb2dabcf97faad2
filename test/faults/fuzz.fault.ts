// The full fuzz run: 100,000 generated inputs against /collect and the read API (see test/fuzz/suite.ts).
import { fuzzSuite } from '../fuzz/suite';

fuzzSuite(Number(process.env.CJM_FUZZ_RUNS ?? 100_000));
