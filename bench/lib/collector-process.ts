/**
 * Runs the Node collector (`collector/node.ts`, the same entry `npm start` runs) as a child process on a free port,
 * so fault tests can `kill -9` it and benchmarks can read its memory without measuring themselves.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface CollectorProcess {
  url: string;
  pid: number;
  child: ChildProcess;
  /** Resolves when the process has exited (after a kill or a crash). */
  exited: Promise<number | null>;
  /** `kill -9`: no chance to flush or close anything. */
  crash: () => Promise<void>;
  /** SIGTERM: the collector closes its server and database. */
  stop: () => Promise<void>;
  /** Resident set size of the process in bytes (Linux /proc), or null once it is gone. */
  rss: () => number | null;
  /** CPU time (user + system) the process has used, in ms (Linux /proc), or null once it is gone. */
  cpuMs: () => number | null;
}

export interface CollectorProcessOptions {
  db: string;
  token?: string;
  /** Extra environment (CJM_SYNC=full…). */
  env?: Record<string, string>;
  /** Port; 0 (default) lets the OS choose. */
  port?: number;
}

/** Starts `node --import tsx collector/node.ts` and resolves once it prints the URL it listens on. */
export const startCollectorProcess = (o: CollectorProcessOptions): Promise<CollectorProcess> =>
  new Promise((ok, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'collector/node.ts'], {
      cwd: ROOT,
      env: {
        ...process.env,
        PORT: String(o.port ?? 0),
        HOST: '127.0.0.1',
        CJM_DB: o.db,
        CJM_ADMIN_TOKEN: o.token ?? 'fault-token-0123456789abcdef',
        ...o.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(new Error(`[cjm bench] the collector did not start within 30 s\n${out}\n${err}`));
    }, 30_000);
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on https?:\/\/[^:\s]+:(\d+)/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      child.stdout!.removeAllListeners('data');
      child.stdout!.resume();
      const pid = child.pid!;
      ok({
        url: `http://127.0.0.1:${m[1]}`,
        pid,
        child,
        exited,
        crash: async () => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
          await exited;
        },
        stop: async () => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          await exited;
        },
        cpuMs: () => {
          try {
            // Fields 14 and 15 of /proc/<pid>/stat (after the command in parentheses): utime, stime in clock ticks.
            const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
            return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
          } catch {
            return null;
          }
        },
        rss: () => {
          try {
            const status = readFileSync(`/proc/${pid}/status`, 'utf8');
            const kb = /VmRSS:\s+(\d+) kB/.exec(status);
            return kb ? Number(kb[1]) * 1024 : null;
          } catch {
            return null;
          }
        },
      });
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`[cjm bench] the collector exited (${code}) before listening\n${out}\n${err}`));
    });
  });
