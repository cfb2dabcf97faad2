/**
 * Starts the Worker (collector/worker.ts) on a real local workerd for tests and benchmarks: a free port on
 * 127.0.0.1, a fresh migrated local D1 in a temp folder, stopped (and the folder removed) by `stop()`.
 *
 * @example
 * const worker = await startWorker({ adminToken: 'bench-token-0123456789abcdef' })
 * await fetch(`${worker.url}/collect`, { method: 'POST', body })
 * await worker.stop()
 */
export { startLocalWorker as startWorker, type LocalWorker, type LocalWorkerOptions } from '../../scripts/worker';
