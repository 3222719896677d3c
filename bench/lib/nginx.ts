import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A private nginx serving one static file: the reference a /data read is compared with
 * (reference/test-services.md §10). Foreground (`daemon off`), loopback only, every path in a temp dir.
 */
export interface Nginx {
  readonly url: string;
  readonly pid: number;
  readonly version: string;
  stop(): Promise<void>;
}

export async function startNginx(options: { bin: string; dir: string; port: number; fileName: string; body: Buffer }): Promise<Nginx> {
  const { bin, dir, port, fileName, body } = options;
  for (const sub of ['www', 'tmp/body', 'tmp/proxy', 'tmp/fcgi', 'tmp/uwsgi', 'tmp/scgi']) mkdirSync(join(dir, sub), { recursive: true });
  writeFileSync(join(dir, 'www', fileName), body);
  // Started as root, nginx's worker drops to www-data: it must be able to reach the docroot.
  for (const d of [dir, join(dir, 'www')]) chmodSync(d, 0o755);
  const conf = join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    `worker_processes 1; pid ${dir}/nginx.pid; error_log ${dir}/error.log warn; daemon off;
events { worker_connections 1024; }
http { include /etc/nginx/mime.types; access_log off; sendfile on; tcp_nopush on; keepalive_requests 100000;
  client_body_temp_path ${dir}/tmp/body; proxy_temp_path ${dir}/tmp/proxy; fastcgi_temp_path ${dir}/tmp/fcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi; scgi_temp_path ${dir}/tmp/scgi;
  server { listen 127.0.0.1:${port}; root ${dir}/www; } }
`,
  );
  const check = spawnSync(bin, ['-t', '-q', '-p', dir, '-e', `${dir}/error.log`, '-c', conf], { encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`nginx -t failed:\n${check.stderr}`);
  const version = spawnSync(bin, ['-v'], { encoding: 'utf8' }).stderr.trim().replace(/^nginx version: /, '');

  const child = spawn(bin, ['-p', dir, '-e', `${dir}/error.log`, '-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  const closed = new Promise<void>((resolve) => child.once('close', () => { resolve(); }));
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const stop = async () => {
    process.removeListener('exit', killOnExit);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM'); // SIGTERM: fast shutdown of master + worker
    await closed;
  };

  const url = `http://127.0.0.1:${port}/${fileName}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nginx exited early (code ${child.exitCode}):\n${stderr}`);
    try {
      const res = await fetch(url);
      const got = Buffer.from(await res.arrayBuffer());
      if (res.status === 200 && got.equals(body)) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`nginx did not serve ${url} within 10 s:\n${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  if (child.pid === undefined) throw new Error('nginx has no pid');
  return { url, pid: child.pid, version, stop };
}
