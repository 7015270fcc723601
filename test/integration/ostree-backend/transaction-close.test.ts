// Transaction sockets on a real filesystem: every transaction binds the same path, and closing a
// listening unix socket unlinks its path (libuv), so the daemon must see one closing complete before
// it binds the next. A close still in flight once deleted the next transaction's socket under its
// client (ENOENT on connect, found by bench/stage-finalize.mjs). Likewise a transaction must not
// close under a client it handed its address to and that has not connected yet.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { memoryLogger } from '../../../src/common/logger.js';
import { connectPeer } from '../../../src/dbus/peer.js';
import { privateSocketPath, Transaction, type TransactionOptions } from '../../../src/ostree/backend/transaction.js';
import { RPMOSTREE_XML } from '../../helpers/glib-peer.js';

describe('transaction socket lifecycle', () => {
  let dir = '';
  let xml = '';
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tx-close-'));
    xml = await readFile(RPMOSTREE_XML, 'utf8');
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  const options = (socketPath: string, onClosed: () => void = () => undefined): TransactionOptions => ({
    xml,
    socketPath,
    ownerUid: process.getuid?.() ?? 0,
    title: 'test',
    clientDescription: 'test',
    forceCloseMs: 30_000,
    logger: memoryLogger(),
    work: async () => undefined,
    afterWork: async () => undefined,
    onClosed,
  });

  it('a second close waits for the first to unlink the socket and runs onClosed once', async () => {
    const path = join(dir, 'transaction.sock');
    let closed = 0;
    const tx = await Transaction.create(options(path, () => closed++));
    const first = tx.close();
    await tx.close();
    expect(existsSync(privateSocketPath(path))).toBe(false);
    expect(closed).toBe(1);
    await first;
    expect(closed).toBe(1);
  });

  it('a transaction that finishes before a joining client connects stays open for it and replays Finished', async () => {
    const path = join(dir, 'transaction.sock');
    let finishWork: () => void = () => undefined;
    const work = new Promise<void>((r) => (finishWork = r));
    const tx = await Transaction.create({ ...options(path), work: () => work });
    // The creator connects and starts; a second caller is handed the same address (a restarted
    // client joining the running transaction), then the work ends and the creator hangs up.
    const creator = await connectPeer(tx.handOut());
    const creatorIface = (await creator.getProxyObject('org.projectatomic.rpmostree1', '/')).getInterface('org.projectatomic.rpmostree1.Transaction');
    const creatorDone = new Promise((r) => creatorIface.once('Finished', (ok: boolean) => r(ok)));
    await creatorIface['Start']!();
    const joinAddress = tx.handOut();
    finishWork();
    expect(await creatorDone).toBe(true);
    creator.disconnect();
    await new Promise((r) => setTimeout(r, 100));
    expect(existsSync(privateSocketPath(path))).toBe(true);
    const joiner = await connectPeer(joinAddress);
    const iface = (await joiner.getProxyObject('org.projectatomic.rpmostree1', '/')).getInterface('org.projectatomic.rpmostree1.Transaction');
    const finished = new Promise((r) => iface.once('Finished', (ok: boolean) => r(ok)));
    expect(await iface['Start']!()).toBe(false);
    expect(await finished).toBe(true);
    joiner.disconnect();
    await new Promise((r) => setTimeout(r, 100));
    expect(existsSync(privateSocketPath(path))).toBe(false);
  });
});
