import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseIntrospectionXml, type IntrospectedInterface } from '../../../src/dbus/introspection-xml.js';

const XML = readFileSync(new URL('../../../src/ostree/rpmostree1.xml', import.meta.url), 'utf8');

describe('src/dbus/introspection-xml', () => {
  it('reads every interface of the rpm-ostree XML with its member counts', () => {
    const ifaces = parseIntrospectionXml(XML);
    const counts = Object.fromEntries(ifaces.map((i) => [i.name, [i.properties.length, i.methods.length, i.signals.length]]));
    expect(counts).toEqual({
      'org.projectatomic.rpmostree1.Sysroot': [6, 5, 0],
      'org.projectatomic.rpmostree1.OS': [6, 27, 0],
      'org.projectatomic.rpmostree1.OSExperimental': [0, 3, 0],
      'org.projectatomic.rpmostree1.Transaction': [2, 2, 8],
    });
  });

  it('builds in/out signatures and keeps argument names', () => {
    const os = parseIntrospectionXml(XML).find((i) => i.name === 'org.projectatomic.rpmostree1.OS')!;
    const deploy = os.methods.find((m) => m.name === 'Deploy')!;
    expect([deploy.inSignature, deploy.outSignature]).toEqual(['sa{sv}', 's']);
    expect(deploy.args.map((a) => a.name)).toEqual(['revision', 'options', 'transaction_address']);
    const tx = parseIntrospectionXml(XML).find((i) => i.name === 'org.projectatomic.rpmostree1.Transaction')!;
    expect(tx.signals.find((s) => s.name === 'DownloadProgress')!.signature).toBe('(tt)(uu)(uuu)(uuut)(uu)(tt)');
    expect(tx.signals.find((s) => s.name === 'ProgressEnd')!.signature).toBe('');
  });

  it.each([
    ['unclosed element', '<node><interface name="a.b">'],
    ['mismatched close', '<node><interface name="a.b"></node></interface>'],
    ['two roots', '<node/><node/>'],
    ['property without access', '<node><interface name="a.b"><property name="P" type="s"/></interface></node>'],
    ['bad direction', '<node><interface name="a.b"><method name="M"><arg type="s" direction="sideways"/></method></interface></node>'],
    ['stray markup', '<node><<interface/></node>'],
  ])('rejects %s with DBUS_BAD_INTERFACE_XML', (_what, xml) => {
    expect(() => parseIntrospectionXml(xml)).toThrow(expect.objectContaining({ code: 'DBUS_BAD_INTERFACE_XML' }) as Error);
  });

  const ident = fc.stringMatching(/^[A-Z][A-Za-z0-9_]{0,8}$/);
  const type = fc.constantFrom('s', 'b', 'u', 't', 'o', 'a{sv}', 'aa{sv}', '(sss)', 'as', '(tt)');
  const arg = fc.record({ name: fc.option(fc.stringMatching(/^[a-z][a-z_]{0,6}$/), { nil: undefined }), type, direction: fc.constantFrom<'in' | 'out'>('in', 'out') });
  const iface = fc.record({
    name: fc.stringMatching(/^[a-z]{1,5}\.[a-z]{1,5}\.[A-Z][a-z]{0,5}$/),
    methods: fc.uniqueArray(fc.record({ name: ident, args: fc.array(arg, { maxLength: 4 }) }), { selector: (m) => m.name, maxLength: 4 }),
    properties: fc.uniqueArray(fc.record({ name: ident, type, access: fc.constantFrom<'read' | 'write' | 'readwrite'>('read', 'write', 'readwrite') }), { selector: (p) => p.name, maxLength: 4 }),
    signals: fc.uniqueArray(fc.record({ name: ident, args: fc.array(arg.map((a) => ({ ...a, direction: 'out' as const })), { maxLength: 3 }) }), { selector: (s) => s.name, maxLength: 3 }),
  });
  const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
  const argXml = (a: { name: string | undefined; type: string; direction: string }, dir: boolean): string =>
    `<arg${a.name !== undefined ? ` name="${a.name}"` : ''} type="${esc(a.type)}"${dir ? ` direction="${a.direction}"` : ''}/>`;

  it('round-trips generated interfaces (property)', () => {
    fc.assert(
      fc.property(iface, (i) => {
        const xml = `<!DOCTYPE node PUBLIC "x" "y">\n<node>\n  <!-- c < > -->\n  <interface name="${i.name}">${i.methods
          .map((m) => `<method name="${m.name}">${m.args.map((a) => argXml(a, true)).join('')}</method>`)
          .join('\n')}${i.properties.map((p) => `<property name="${p.name}" type="${esc(p.type)}" access="${p.access}"/>`).join('')}${i.signals
          .map((s) => `<signal name="${s.name}">${s.args.map((a) => argXml(a, false)).join('')}</signal>`)
          .join('')}</interface></node>`;
        const [parsed] = parseIntrospectionXml(xml) as [IntrospectedInterface];
        expect(parsed.name).toBe(i.name);
        expect(parsed.methods.map((m) => ({ name: m.name, args: m.args }))).toEqual(i.methods);
        expect(parsed.methods.map((m) => m.inSignature)).toEqual(i.methods.map((m) => m.args.filter((a) => a.direction === 'in').map((a) => a.type).join('')));
        expect(parsed.properties.map((p) => ({ name: p.name, type: p.type, access: p.access }))).toEqual(i.properties);
        expect(parsed.signals.map((s) => ({ name: s.name, args: s.args }))).toEqual(i.signals);
      }),
    );
  });
});
