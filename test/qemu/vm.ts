// The qemu smoke test's bootloader and VM: reads the newest BLS entry from the ext4 disk image
// itself (debugfs, no mount: what ostree wrote at the last shutdown), dumps that entry's kernel and
// initramfs, and runs one boot under TCG (KVM fails on this machine) with `-no-reboot`, so a guest
// reboot ends qemu and the caller boots the image again, reading the entries anew.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { trackProcess } from '../helpers/scope.js';
import { run } from '../realnode/exec.js';

/** One boot's outcome. */
export interface VmBoot {
  /** The BLS entry booted (its file name) and its options line. */
  readonly entry: string;
  readonly options: string;
  /** How the guest ended: `reboot` (`reboot: Restarting system`), `poweroff` (`reboot: Power down`), or `other`. */
  readonly ended: 'reboot' | 'poweroff' | 'other';
  readonly exitCode: number | null;
  readonly secs: number;
  /** This boot's serial console. */
  readonly console: string;
}

/** Runs one debugfs request against `image`; its stdout. */
const debugfs = async (image: string, request: string): Promise<string> => (await run('debugfs', ['-R', request, image])).stdout;

/** The newest BLS entry in `image` (highest `version`, as nspawn-boot.sh picks it): its name and fields. */
export async function newestEntry(image: string): Promise<{ name: string; fields: Map<string, string> }> {
  // /boot/loader is a symlink to loader.0 or loader.1 (ostree swaps it); debugfs does not follow links.
  const link = /Fast link dest: "?([^"\n]+)"?/.exec(await debugfs(image, 'stat /boot/loader'))?.[1];
  if (link === undefined) throw new Error(`qemu: /boot/loader in ${image} is not a symlink`);
  const dir = `/boot/${link}/entries`;
  const names = (await debugfs(image, `ls -p ${dir}`))
    .split('\n')
    .map((l) => l.split('/')[5] ?? '')
    .filter((n) => n.endsWith('.conf'));
  let best: { name: string; fields: Map<string, string>; version: number } | null = null;
  for (const name of names) {
    const text = await debugfs(image, `cat ${dir}/${name}`);
    const fields = new Map(text.split('\n').map((l) => /^(\S+)\s+(.*)$/.exec(l)).filter((m) => m !== null).map((m) => [m![1]!, m![2]!.trim()]));
    const version = Number(fields.get('version'));
    if (best === null || version > best.version) best = { name, fields, version };
  }
  if (best === null) throw new Error(`qemu: no boot entry in ${image}:${dir}`);
  return best;
}

/**
 * Boots `image` once from its newest entry; resolves when qemu exits (the guest rebooted or powered
 * off) or rejects after `timeoutMs`. `work` holds the dumped kernel, initramfs and the console log.
 */
export async function bootOnce(image: string, work: string, n: number, timeoutMs: number): Promise<VmBoot> {
  const { name, fields } = await newestEntry(image);
  const options = fields.get('options') ?? '';
  const kernel = join(work, `vmlinuz-${n}`);
  const initrd = join(work, `initrd-${n}`);
  await debugfs(image, `dump /boot${fields.get('linux')} ${kernel}`);
  await debugfs(image, `dump /boot${fields.get('initrd')} ${initrd}`);
  if (!existsSync(kernel) || !existsSync(initrd)) throw new Error(`qemu: could not dump ${fields.get('linux')} / ${fields.get('initrd')} from ${image}`);
  const log = join(work, `console-${n}.log`);
  const started = Date.now();
  const args = [
    ...['-accel', 'tcg,thread=multi', '-cpu', 'max', '-smp', '2', '-m', '2048'],
    ...['-display', 'none', '-monitor', 'none', '-serial', `file:${log}`, '-no-reboot'],
    ...['-kernel', kernel, '-initrd', initrd, '-append', `${options} panic=-1`],
    ...['-drive', `file=${image},format=raw,if=virtio,cache=unsafe`, '-nic', 'none'],
  ];
  const child = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  trackProcess(child);
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exitCode = await new Promise<number | null>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      const tail = existsSync(log) ? readFileSync(log, 'utf8').split('\n').slice(-30).join('\n') : '';
      reject(new Error(`qemu boot ${n} (${name}) did not end in ${timeoutMs} ms\n${tail}`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
  const text = existsSync(log) ? readFileSync(log, 'utf8') : '';
  if (exitCode !== 0) throw new Error(`qemu exited ${exitCode}: ${stderr.trim()}\n${text.split('\n').slice(-30).join('\n')}`);
  const ended = /reboot: Restarting system/.test(text) ? 'reboot' : /reboot: Power down/.test(text) ? 'poweroff' : 'other';
  return { entry: name, options, ended, exitCode, secs: (Date.now() - started) / 1000, console: text };
}
