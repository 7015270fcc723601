// Run as another uid (setpriv) by authorization.test.ts: calls alt-ostreed on the bus given in
// DBUS_SYSTEM_BUS_ADDRESS and prints one JSON line describing each outcome.
//   node call-as-user.mjs getos | deployments | register | deploy <checksum> | cancel
import dbus from 'dbus-next';
import { connectPeer } from '../../../dist/src/dbus/peer.js';

const NAME = 'org.projectatomic.rpmostree1';
const [what, arg] = process.argv.slice(2);
const bus = dbus.systemBus();
const out = {};
try {
  const sysroot = await bus.getProxyObject(NAME, '/org/projectatomic/rpmostree1/Sysroot');
  const sys = sysroot.getInterface(`${NAME}.Sysroot`);
  if (what === 'getos') out.result = await sys.GetOS('');
  else if (what === 'deployments') {
    const v = await sysroot.getInterface('org.freedesktop.DBus.Properties').Get(`${NAME}.Sysroot`, 'Deployments');
    out.result = v.value.length;
  } else if (what === 'register') out.result = await sys.RegisterClient({ id: new dbus.Variant('s', 'test') });
  else if (what === 'deploy') {
    const os = await bus.getProxyObject(NAME, '/org/projectatomic/rpmostree1/altcos');
    const address = await os.getInterface(`${NAME}.OS`).Deploy(`revision=${arg}`, {
      'lock-finalization': new dbus.Variant('b', true),
      'skip-branch-check': new dbus.Variant('b', true),
      'allow-downgrade': new dbus.Variant('b', false),
    });
    const peer = await connectPeer(address);
    const tx = (await peer.getProxyObject(NAME, '/')).getInterface(`${NAME}.Transaction`);
    const finished = new Promise((resolve) => tx.on('Finished', (success, error) => resolve({ success, error })));
    await tx.Start();
    out.result = await finished;
    peer.disconnect();
  } else if (what === 'cancel') {
    // What any local user could try: read the running transaction's address (the bus policy lets
    // everyone read properties), connect to it and cancel someone else's transaction.
    // SASL EXTERNAL sends the uid the client claims: claim root's (dbus-next reads process.getuid()).
    const v = await sysroot.getInterface('org.freedesktop.DBus.Properties').Get(`${NAME}.Sysroot`, 'ActiveTransactionPath');
    process.getuid = () => 0;
    const peer = await connectPeer(v.value);
    const tx = (await peer.getProxyObject(NAME, '/')).getInterface(`${NAME}.Transaction`);
    out.result = await tx.Cancel();
    peer.disconnect();
  }
} catch (err) {
  out.error = { name: err.type ?? err.code ?? err.name, text: err.text ?? err.message };
}
process.stdout.write(`${JSON.stringify(out)}\n`);
bus.disconnect();
process.exit(0);
