// iCalendar content (RFC 5545 3.1, 3.4, 3.6), pure: text to a tree of components and back. Our own rather than
// ical.js (76 KB minified in every calendar bundle) for the little the calendar adapters need: read someone's
// object into busy time, rewrite a few properties of a stored object, write a booking.
//
// Each property keeps the line it was read from (unfolded), and writes that line back unless it was set anew:
// a rewrite of someone's object changes what it sets and nothing else, whatever parameters, escapes or X-
// properties the rest carries. Names are case-insensitive: stored upper-case, matched upper-case.

export type Parameters = Record<string, string[]>;

export type Property = {
  /** Upper-case name: "DTSTART", "X-BOOKING-ID". */
  name: string;
  /** Upper-case parameter names to their values, unquoted, RFC 6868 escapes decoded. */
  parameters: Parameters;
  /** The raw value: TEXT escapes are still in it (see text() in values.ts). */
  value: string;
  /** The unfolded line it was read from; written back as is while the property is unchanged. */
  line?: string;
};

export type Component = {
  /** Upper-case name: "VCALENDAR", "VEVENT", "DAYLIGHT". */
  name: string;
  properties: Property[];
  components: Component[];
};

/** Bounds on what one parse builds, beside the caller's bound on characters. */
const MAX_DEPTH = 8;
const MAX_PARAMETERS = 50;

export class ContentError extends Error {}

/** Content lines of a text: CRLF or LF (or a lone CR) line breaks, a line starting with space or tab continues the one before. */
export function unfold(text: string): string[] {
  const lines: string[] = [];
  for (const physical of text.split(/\r\n|\n|\r/)) {
    if ((physical.startsWith(' ') || physical.startsWith('\t')) && lines.length) lines[lines.length - 1] += physical.slice(1);
    else lines.push(physical);
  }
  return lines;
}

/** RFC 6868 parameter value escapes: ^n a line break, ^' a DQUOTE, ^^ a caret. */
const decodeParameter = (value: string) => value.replace(/\^(n|'|\^)/g, (_, c: string) => (c === 'n' ? '\n' : c === "'" ? '"' : '^'));

/** One content line: name *(";" param) ":" value. Throws ContentError when it is not one. */
export function parseLine(line: string): Property {
  const nameEnd = line.search(/[;:]/);
  if (nameEnd <= 0) throw new ContentError(`invalid line (no name or ":"): ${line.slice(0, 60)}`);
  const name = line.slice(0, nameEnd).toUpperCase();
  if (!/^[A-Z0-9-]+$/.test(name)) throw new ContentError(`invalid property name: ${name.slice(0, 60)}`);
  const parameters: Parameters = {};
  let at = nameEnd;
  let count = 0;
  while (line[at] === ';') {
    const equals = line.indexOf('=', at + 1);
    if (equals < 0) throw new ContentError(`invalid parameter in ${name}`);
    const parameter = line.slice(at + 1, equals).toUpperCase();
    if (!/^[A-Z0-9-]+$/.test(parameter) || ++count > MAX_PARAMETERS) throw new ContentError(`invalid parameter in ${name}`);
    const values: string[] = [];
    at = equals;
    do {
      at++;
      if (line[at] === '"') {
        const close = line.indexOf('"', at + 1);
        if (close < 0) throw new ContentError(`unterminated quoted parameter in ${name}`);
        values.push(decodeParameter(line.slice(at + 1, close)));
        at = close + 1;
      } else {
        let end = at;
        while (end < line.length && line[end] !== ',' && line[end] !== ';' && line[end] !== ':') end++;
        values.push(decodeParameter(line.slice(at, end)));
        at = end;
      }
    } while (line[at] === ',');
    parameters[parameter] = [...(parameters[parameter] ?? []), ...values];
  }
  if (line[at] !== ':') throw new ContentError(`invalid line in ${name} (no ":" after its parameters)`);
  return { name, parameters, value: line.slice(at + 1), line };
}

/**
 * The components of an iCalendar text (usually one VCALENDAR). Throws ContentError on what is not iCalendar:
 * a line that is not a content line, a property outside any component, BEGIN/END that do not pair up.
 */
export function parse(text: string): Component[] {
  const roots: Component[] = [];
  const stack: Component[] = [];
  for (const line of unfold(text)) {
    if (line === '') continue;
    const property = parseLine(line);
    if (property.name === 'BEGIN') {
      const name = property.value.trim().toUpperCase();
      if (!name || stack.length >= MAX_DEPTH) throw new ContentError(name ? 'components nested too deep' : 'BEGIN without a name');
      const component: Component = { name, properties: [], components: [] };
      (stack.length ? stack[stack.length - 1]!.components : roots).push(component);
      stack.push(component);
    } else if (property.name === 'END') {
      const name = property.value.trim().toUpperCase();
      if (stack[stack.length - 1]?.name !== name) throw new ContentError(`END:${name.slice(0, 40)} does not close ${stack.length ? stack[stack.length - 1]!.name.slice(0, 40) : 'anything'}`);
      stack.pop();
    } else {
      if (!stack.length) throw new ContentError(`${property.name.slice(0, 40)} outside of any component`);
      stack[stack.length - 1]!.properties.push(property);
    }
  }
  if (stack.length) throw new ContentError(`${stack[stack.length - 1]!.name.slice(0, 40)} began but did not end`);
  return roots;
}

export const first = (component: Component, name: string): Property | undefined => component.properties.find((p) => p.name === name);
export const all = (component: Component, name: string): Property[] => component.properties.filter((p) => p.name === name);
export const parameter = (property: Property | undefined, name: string): string | undefined => property?.parameters[name]?.[0];
export const subcomponents = (component: Component, name: string): Component[] => component.components.filter((c) => c.name === name);

/** Sets a property anew (the first of its name in place, the others dropped; or appended): it is written from its parts. */
export function setProperty(component: Component, name: string, value: string, parameters: Parameters = {}): void {
  const property: Property = { name: name.toUpperCase(), parameters, value };
  const index = component.properties.findIndex((p) => p.name === property.name);
  if (index < 0) {
    component.properties.push(property);
    return;
  }
  component.properties[index] = property;
  component.properties = component.properties.filter((p, i) => i === index || p.name !== property.name);
}

/** TEXT escapes (RFC 5545 3.3.11): backslash, semicolon, comma, line breaks. */
export const escapeText = (value: string) => value.replace(/[\\;,]/g, (c) => `\\${c}`).replace(/\r\n|\r|\n/g, '\\n');

/** A parameter value: quoted when it holds ":", ";" or ","; RFC 6868 escapes for DQUOTE, caret and line breaks. */
function writeParameter(value: string): string {
  const escaped = value.replace(/\^/g, '^^').replace(/"/g, "^'").replace(/\r\n|\r|\n/g, '^n').replace(/[\u0000-\u0008\u000a-\u001f\u007f]/g, '');
  return /[:;,^]/.test(escaped) || escaped !== value ? `"${escaped}"` : escaped;
}

function propertyLine(property: Property): string {
  if (property.line !== undefined) return property.line;
  const parameters = Object.entries(property.parameters).map(([name, values]) => `;${name}=${values.map(writeParameter).join(',')}`);
  return `${property.name}${parameters.join('')}:${property.value.replace(/[\r\n]/g, '')}`;
}

/** A content line folded at 75 octets (RFC 5545 3.1), never inside a UTF-8 character. */
export function foldLine(line: string): string {
  if (line.length <= 75 && !/[^\x00-\x7f]/.test(line)) return line;
  const parts: string[] = [];
  let current = '';
  let octets = 0;
  for (const char of line) {
    const code = char.codePointAt(0)!;
    const size = code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
    // The first line holds 75 octets; each continuation line starts with a space, so holds 74 more.
    if (octets + size > (parts.length ? 74 : 75)) {
      parts.push(current);
      current = '';
      octets = 0;
    }
    current += char;
    octets += size;
  }
  parts.push(current);
  return parts.join('\r\n ');
}

/** The component as iCalendar text: CRLF after every line, lines folded at 75 octets. */
export function stringify(component: Component): string {
  const lines: string[] = [];
  const write = (c: Component) => {
    lines.push(`BEGIN:${c.name}`);
    for (const property of c.properties) lines.push(foldLine(propertyLine(property)));
    for (const child of c.components) write(child);
    lines.push(`END:${c.name}`);
  };
  write(component);
  return lines.join('\r\n') + '\r\n';
}
