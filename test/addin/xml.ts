// The manifest checks' XML reader: fast-xml-parser validates the markup (unclosed or mismatched
// tags, repeated attributes, unquoted values throw with the line) and parses it in document order;
// this file only turns its ordered output into elements with attributes, children and text, and
// adds the checks it leaves to us (one root element).
import { XMLParser, XMLValidator } from "fast-xml-parser";

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  /** Concatenated text directly inside the element (entities decoded). */
  text: string;
  /** Where the element is, for messages: "OfficeApp/Resources/bt:Urls/bt:Url[2]". */
  path: string;
}

export class XmlError extends Error {}

/** fast-xml-parser's ordered form: one key (the tag, or "#text"), plus ":@" for the attributes. */
type Ordered = Record<string, unknown> & { ":@"?: Record<string, string> };

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: "",
  parseAttributeValue: false,
  parseTagValue: false,
  trimValues: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
});

function element(node: Ordered, parentPath: string, index: number): XmlElement {
  const name = Object.keys(node).find((k) => k !== ":@")!;
  const path = parentPath ? `${parentPath}/${name}[${index}]` : name;
  const el: XmlElement = { name, attrs: { ...(node[":@"] ?? {}) }, children: [], text: "", path };
  const counts = new Map<string, number>();
  for (const c of node[name] as Ordered[]) {
    if ("#text" in c) el.text += String(c["#text"]);
    else {
      const cn = Object.keys(c).find((k) => k !== ":@")!;
      const k = (counts.get(cn) ?? 0) + 1;
      counts.set(cn, k);
      el.children.push(element(c, path, k));
    }
  }
  return el;
}

export function parseXml(src: string): XmlElement {
  const valid = XMLValidator.validate(src);
  if (valid !== true) throw new XmlError(`line ${valid.err.line}, column ${valid.err.col}: ${valid.err.msg}`);
  const top = (parser.parse(src) as Ordered[]).filter((n) => !("#text" in n));
  if (top.length !== 1) throw new XmlError(top.length === 0 ? "no root element" : `${top.length} root elements; XML has one`);
  return element(top[0], "", 1);
}

/** Every element named `name` in the subtree (document order). */
export function findAll(e: XmlElement, name: string): XmlElement[] {
  const out: XmlElement[] = [];
  const walk = (x: XmlElement) => {
    if (x.name === name) out.push(x);
    x.children.forEach(walk);
  };
  walk(e);
  return out;
}

/** The one element named `name` in the subtree; throws if there is none or several. */
export function findOne(e: XmlElement, name: string): XmlElement {
  const all = findAll(e, name);
  if (all.length !== 1) throw new XmlError(`expected one <${name}> in <${e.name}>, found ${all.length}`);
  return all[0];
}

/** The direct child named `name`, or undefined. */
export function child(e: XmlElement, name: string): XmlElement | undefined {
  return e.children.find((c) => c.name === name);
}
