// A strict little reader for D-Bus introspection XML (the format of rpm-ostree's interface file).
// Hand-written so the project does not lean on dbus-next's transitive xml2js dependency; the format
// is tiny: node/interface/method/signal/property/arg/annotation elements, attributes, comments.
import { DBusAdapterError } from './errors.js';

/** One `<arg>` of a method or signal. */
export interface IntrospectedArg {
  /** Argument name, when the XML gives one. */
  readonly name: string | undefined;
  /** Single complete D-Bus type, e.g. `a{sv}`. */
  readonly type: string;
  /** `in` or `out` (signal args are always `out`). */
  readonly direction: 'in' | 'out';
}

/** One `<annotation name value>`. */
export interface IntrospectedAnnotation {
  /** Annotation name, e.g. `org.freedesktop.DBus.Deprecated`. */
  readonly name: string;
  /** Annotation value. */
  readonly value: string;
}

/** One `<method>`. */
export interface IntrospectedMethod {
  /** Member name. */
  readonly name: string;
  /** Arguments in XML order. */
  readonly args: readonly IntrospectedArg[];
  /** Concatenated `in` types. */
  readonly inSignature: string;
  /** Concatenated `out` types. */
  readonly outSignature: string;
  /** Annotations on the method. */
  readonly annotations: readonly IntrospectedAnnotation[];
}

/** One `<signal>`. */
export interface IntrospectedSignal {
  /** Member name. */
  readonly name: string;
  /** Arguments in XML order. */
  readonly args: readonly IntrospectedArg[];
  /** Concatenated argument types. */
  readonly signature: string;
  /** Annotations on the signal. */
  readonly annotations: readonly IntrospectedAnnotation[];
}

/** One `<property>`. */
export interface IntrospectedProperty {
  /** Property name. */
  readonly name: string;
  /** D-Bus type. */
  readonly type: string;
  /** Access mode. */
  readonly access: 'read' | 'write' | 'readwrite';
  /** Annotations on the property. */
  readonly annotations: readonly IntrospectedAnnotation[];
}

/** One `<interface>` with its members in XML order. */
export interface IntrospectedInterface {
  /** Interface name. */
  readonly name: string;
  /** Methods. */
  readonly methods: readonly IntrospectedMethod[];
  /** Properties. */
  readonly properties: readonly IntrospectedProperty[];
  /** Signals. */
  readonly signals: readonly IntrospectedSignal[];
}

interface Element {
  readonly tag: string;
  readonly attrs: Record<string, string>;
  readonly children: Element[];
}

const TOKEN =
  /<!--[\s\S]*?-->|<!DOCTYPE[^>]*>|<\?[\s\S]*?\?>|<\/([A-Za-z_][\w:.-]*)\s*>|<([A-Za-z_][\w:.-]*)((?:\s+[A-Za-z_][\w:.-]*\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>|([^<]+)/y;
const ATTR = /([A-Za-z_][\w:.-]*)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;

function bad(msg: string): DBusAdapterError {
  return new DBusAdapterError('DBUS_BAD_INTERFACE_XML', `introspection XML: ${msg}`);
}

function unescapeXml(s: string): string {
  return s.replace(/&(lt|gt|amp|quot|apos|#\d+|#x[0-9a-fA-F]+);/g, (_m, e: string) => {
    switch (e) {
      case 'lt': return '<';
      case 'gt': return '>';
      case 'amp': return '&';
      case 'quot': return '"';
      case 'apos': return "'";
      default: return String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
    }
  });
}

function parseElements(xml: string): Element {
  const root: Element = { tag: '#root', attrs: {}, children: [] };
  const stack: Element[] = [root];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < xml.length) {
    const at = TOKEN.lastIndex;
    const m = TOKEN.exec(xml);
    if (m === null) throw bad(`unexpected markup at offset ${at}`);
    const [, closeTag, openTag, attrText, selfClose] = m;
    const top = stack[stack.length - 1]!;
    if (closeTag !== undefined) {
      if (top.tag !== closeTag) throw bad(`</${closeTag}> at offset ${at} closes <${top.tag}>`);
      stack.pop();
    } else if (openTag !== undefined) {
      const attrs: Record<string, string> = {};
      for (const a of (attrText ?? '').matchAll(ATTR)) attrs[a[1]!] = unescapeXml(a[2] ?? a[3] ?? '');
      const el: Element = { tag: openTag, attrs, children: [] };
      top.children.push(el);
      if (selfClose !== '/') stack.push(el);
    }
  }
  if (stack.length !== 1) throw bad(`<${stack[stack.length - 1]!.tag}> is never closed`);
  return root;
}

function need(el: Element, attr: string, where: string): string {
  const v = el.attrs[attr];
  if (v === undefined || v === '') throw bad(`<${el.tag}> in ${where} lacks '${attr}'`);
  return v;
}

function annotationsOf(el: Element, where: string): IntrospectedAnnotation[] {
  return el.children
    .filter((c) => c.tag === 'annotation')
    .map((c) => ({ name: need(c, 'name', where), value: c.attrs['value'] ?? '' }));
}

function argsOf(el: Element, where: string, isSignal: boolean): IntrospectedArg[] {
  return el.children
    .filter((c) => c.tag === 'arg')
    .map((c) => {
      const dir = c.attrs['direction'] ?? (isSignal ? 'out' : 'in');
      if (dir !== 'in' && dir !== 'out') throw bad(`arg of ${where} has direction '${dir}'`);
      return { name: c.attrs['name'], type: need(c, 'type', where), direction: dir };
    });
}

function readInterface(el: Element): IntrospectedInterface {
  const name = need(el, 'name', 'node');
  const methods: IntrospectedMethod[] = [];
  const properties: IntrospectedProperty[] = [];
  const signals: IntrospectedSignal[] = [];
  for (const c of el.children) {
    if (c.tag === 'method') {
      const mname = need(c, 'name', name);
      const args = argsOf(c, `${name}.${mname}`, false);
      methods.push({
        name: mname,
        args,
        inSignature: args.filter((a) => a.direction === 'in').map((a) => a.type).join(''),
        outSignature: args.filter((a) => a.direction === 'out').map((a) => a.type).join(''),
        annotations: annotationsOf(c, `${name}.${mname}`),
      });
    } else if (c.tag === 'signal') {
      const sname = need(c, 'name', name);
      const args = argsOf(c, `${name}.${sname}`, true);
      signals.push({ name: sname, args, signature: args.map((a) => a.type).join(''), annotations: annotationsOf(c, `${name}.${sname}`) });
    } else if (c.tag === 'property') {
      const pname = need(c, 'name', name);
      const access = need(c, 'access', `${name}.${pname}`);
      if (access !== 'read' && access !== 'write' && access !== 'readwrite') throw bad(`property ${name}.${pname} has access '${access}'`);
      properties.push({ name: pname, type: need(c, 'type', `${name}.${pname}`), access, annotations: annotationsOf(c, `${name}.${pname}`) });
    }
  }
  return { name, methods, properties, signals };
}

/** Parses introspection XML into its interfaces (of the top `<node>` only); throws DBusAdapterError. */
export function parseIntrospectionXml(xml: string): IntrospectedInterface[] {
  const root = parseElements(xml);
  const nodes = root.children.filter((c) => c.tag === 'node');
  if (nodes.length !== 1) throw bad(`expected one top-level <node>, found ${nodes.length}`);
  return nodes[0]!.children.filter((c) => c.tag === 'interface').map(readInterface);
}
