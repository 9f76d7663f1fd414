// A small XML reader for the manifest checks: a character scanner (no regular expressions) that
// builds elements with attributes, children and text, decodes the five predefined entities and
// numeric references, and throws on malformed markup (unclosed or mismatched tags, duplicate
// attributes, bad attribute syntax). Enough for manifest.xml; not a general XML processor.

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  /** Concatenated text directly inside the element (entities decoded). */
  text: string;
  /** 1-based line of the start tag, for messages. */
  line: number;
}

export class XmlError extends Error {}

const NAME_EXTRA = new Set([":", "_", "-", "."]);
function isNameChar(c: string): boolean {
  return (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9") || NAME_EXTRA.has(c);
}
function isSpace(c: string): boolean {
  return c === " " || c === "\t" || c === "\n" || c === "\r";
}

function decode(s: string, line: number): string {
  let out = "";
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    if (c !== "&") {
      out += c;
      i++;
      continue;
    }
    const end = s.indexOf(";", i);
    if (end < 0) throw new XmlError(`line ${line}: '&' without ';'`);
    const ent = s.slice(i + 1, end);
    const named: Record<string, string> = { quot: '"', amp: "&", lt: "<", gt: ">", apos: "'" };
    if (ent in named) out += named[ent];
    else if (ent.startsWith("#x")) out += String.fromCodePoint(parseInt(ent.slice(2), 16));
    else if (ent.startsWith("#")) out += String.fromCodePoint(parseInt(ent.slice(1), 10));
    else throw new XmlError(`line ${line}: unknown entity &${ent};`);
    i = end + 1;
  }
  return out;
}

export function parseXml(src: string): XmlElement {
  let i = 0;
  let line = 1;
  const root: XmlElement = { name: "#document", attrs: {}, children: [], text: "", line: 0 };
  const stack: XmlElement[] = [root];
  const advance = (n: number) => {
    for (let k = 0; k < n; k++) if (src[i + k] === "\n") line++;
    i += n;
  };
  const skipTo = (marker: string, what: string) => {
    const j = src.indexOf(marker, i);
    if (j < 0) throw new XmlError(`line ${line}: unterminated ${what}`);
    advance(j + marker.length - i);
  };
  const readName = (): string => {
    const s = i;
    while (i < src.length && isNameChar(src[i])) i++;
    if (i === s) throw new XmlError(`line ${line}: expected a name at '${src.slice(i, i + 10)}'`);
    return src.slice(s, i);
  };
  const skipSpace = () => {
    while (i < src.length && isSpace(src[i])) advance(1);
  };

  while (i < src.length) {
    if (src[i] !== "<") {
      const j = src.indexOf("<", i);
      const end = j < 0 ? src.length : j;
      const text = src.slice(i, end);
      const top = stack[stack.length - 1];
      if (top === root) {
        for (const c of text) if (!isSpace(c)) throw new XmlError(`line ${line}: text outside the root element`);
      } else {
        top.text += decode(text, line);
      }
      advance(end - i);
      continue;
    }
    if (src.startsWith("<!--", i)) {
      skipTo("-->", "comment");
      continue;
    }
    if (src.startsWith("<?", i)) {
      skipTo("?>", "declaration");
      continue;
    }
    if (src.startsWith("<![CDATA[", i)) {
      const j = src.indexOf("]]>", i);
      if (j < 0) throw new XmlError(`line ${line}: unterminated CDATA`);
      stack[stack.length - 1].text += src.slice(i + 9, j);
      advance(j + 3 - i);
      continue;
    }
    if (src.startsWith("<!", i)) throw new XmlError(`line ${line}: DOCTYPE and other declarations are not expected`);
    if (src.startsWith("</", i)) {
      advance(2);
      const name = readName();
      skipSpace();
      if (src[i] !== ">") throw new XmlError(`line ${line}: expected '>' after </${name}`);
      advance(1);
      const top = stack.pop();
      if (!top || top === root) throw new XmlError(`line ${line}: </${name}> without a start tag`);
      if (top.name !== name) throw new XmlError(`line ${line}: </${name}> closes <${top.name}> (line ${top.line})`);
      continue;
    }
    advance(1);
    const el: XmlElement = { name: readName(), attrs: {}, children: [], text: "", line };
    for (;;) {
      const hadSpace = i < src.length && isSpace(src[i]);
      skipSpace();
      if (i >= src.length) throw new XmlError(`line ${el.line}: unterminated <${el.name}>`);
      if (src[i] === ">" || src.startsWith("/>", i)) break;
      if (!hadSpace) throw new XmlError(`line ${line}: attributes of <${el.name}> must be separated by spaces`);
      const an = readName();
      skipSpace();
      if (src[i] !== "=") throw new XmlError(`line ${line}: attribute ${an} of <${el.name}> has no value`);
      advance(1);
      skipSpace();
      const q = src[i];
      if (q !== '"' && q !== "'") throw new XmlError(`line ${line}: attribute ${an} of <${el.name}> is not quoted`);
      const end = src.indexOf(q, i + 1);
      if (end < 0) throw new XmlError(`line ${line}: unterminated value of ${an}`);
      if (an in el.attrs) throw new XmlError(`line ${line}: duplicate attribute ${an} on <${el.name}>`);
      el.attrs[an] = decode(src.slice(i + 1, end), line);
      advance(end + 1 - i);
    }
    const parent = stack[stack.length - 1];
    if (parent === root && root.children.length > 0) throw new XmlError(`line ${el.line}: more than one root element`);
    parent.children.push(el);
    if (src.startsWith("/>", i)) advance(2);
    else {
      advance(1);
      stack.push(el);
    }
  }
  if (stack.length !== 1) throw new XmlError(`<${stack[stack.length - 1].name}> (line ${stack[stack.length - 1].line}) is never closed`);
  if (root.children.length !== 1) throw new XmlError("no root element");
  return root.children[0];
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
