// What `xml-js` (and with it `sax`) is in a Lambda bundle (infra/bundling/calendar-libraries.ts): the two calls
// tsdav makes (node_modules/tsdav/dist/tsdav.mjs, davRequest), in compact mode, with xml-js 1.6's results.
//   js2xml(object, { compact: true, spaces, elementNameFn }) writes a request body;
//   xml2js(text, { compact: true, trim, textFn, elementNameFn, attributesFn, ignoreDeclaration }) reads an answer.
// The reader is sax 1.6's strict parser as xml-js drives it, state for state: the same events at the same
// points, so tsdav's callbacks see the same objects in the same order (its textFn rewrites the element it
// reads through `_parent`). Kept as xml-js has them: `_attributes`, `_text`, `_cdata`, `_comment`,
// `_instruction`, `_doctype`, repeated children as arrays, prefixes as written, the five XML entities, character
// references and the HTML entity names sax knows (xml-js builds sax's parser with its options unset, so sax's
// HTML table applies), a DOCTYPE kept as text and never expanded (an entity it declares is an error, as in sax:
// no XXE), the first malformation thrown (sax records it and throws at close; xml-js lets it out), a document
// cut short returned as far as it got (sax's end() forgets its own errors). Unlike sax, no super-linear step:
// sax re-tests every character of `<!...` against /^\[CDATA\[$/ on the whole buffer, and xml-js scans a
// declaration's attributes with a backtracking regex; both are linear here.
// Left out, throwing and naming this file: xml2json, json2xml, the non-compact form and every other option.
// test/unit/xml-js-lean.test.ts runs this module and the real xml-js side by side with tsdav's own callbacks.

const leftOut = (what) => new Error(`xml-js's ${what} is left out of this bundle (infra/bundling/xml-js.mjs): only compact js2xml and xml2js with tsdav's options are bundled`);

function optionsOf(userOptions, allowed, call) {
  const options = {};
  for (const key in userOptions) {
    if (!userOptions.hasOwnProperty(key)) continue;
    if (!allowed.includes(key)) throw leftOut(`${call} option "${key}"`);
    options[key] = userOptions[key];
  }
  if (options.compact !== true) throw leftOut(`non-compact ${call}`);
  return options;
}
const flag = (value) => typeof value === 'boolean' && value;
const isArray = Array.isArray;

// ---- js2xml (xml-js lib/js2xml.js, compact branch, every option but spaces and elementNameFn at its default)

export function js2xml(js, userOptions) {
  const options = optionsOf(userOptions, ['compact', 'spaces', 'elementNameFn'], 'js2xml');
  let spaces = 'spaces' in options && (typeof options.spaces === 'number' || typeof options.spaces === 'string') ? options.spaces : 0;
  if (typeof spaces === 'number') spaces = Array(spaces + 1).join(' ');
  const nameOf = 'elementNameFn' in options ? (name, element) => options.elementNameFn(name, element) : (name) => name;
  const indentation = (depth, firstLine) => (!firstLine && spaces ? '\n' : '') + Array(depth + 1).join(spaces);
  const attributesOf = (attributes) => {
    const out = [];
    for (const key in attributes) {
      if (attributes.hasOwnProperty(key) && attributes[key] !== null && attributes[key] !== undefined) {
        out.push(' ' + key + '="' + ('' + attributes[key]).replace(/"/g, '&quot;') + '"');
      }
    }
    return out.join('');
  };
  const instructionOf = (instruction) => {
    let key;
    for (key in instruction) if (instruction.hasOwnProperty(key)) break;
    if (typeof instruction[key] === 'object') return '<?' + key + attributesOf(instruction[key]._attributes) + '?>';
    const value = instruction[key] ? instruction[key] : '';
    return '<?' + key + (value ? ' ' + value : '') + '?>';
  };
  const textOf = (text) => ('' + text).replace(/&amp;/g, '&').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const hasContent = (element, anyContent) => {
    for (const key in element) {
      if (!element.hasOwnProperty(key)) continue;
      if (key === '_parent' || key === '_attributes') continue;
      if (key === '_text' || key === '_cdata' || key === '_instruction') {
        if (anyContent) return true;
        continue;
      }
      return true;
    }
    return false;
  };
  const elementOf = (element, name, depth, indent) => {
    const elementName = nameOf(name, element);
    if (typeof element === 'undefined' || element === null || element === '') return '<' + elementName + '/>';
    const xml = [];
    if (name) {
      xml.push('<' + elementName);
      if (typeof element !== 'object') {
        xml.push('>' + textOf(element) + '</' + elementName + '>');
        return xml.join('');
      }
      if (element._attributes) xml.push(attributesOf(element._attributes));
      if (hasContent(element, true) || (element._attributes && element._attributes['xml:space'] === 'preserve')) xml.push('>');
      else {
        xml.push('/>');
        return xml.join('');
      }
    }
    xml.push(elementsOf(element, depth + 1, false));
    if (name) xml.push((indent ? indentation(depth, false) : '') + '</' + elementName + '>');
    return xml.join('');
  };
  const elementsOf = (element, depth, firstLine) => {
    const xml = [];
    for (const key in element) {
      if (!element.hasOwnProperty(key)) continue;
      const nodes = isArray(element[key]) ? element[key] : [element[key]];
      for (let i = 0; i < nodes.length; ++i) {
        const node = nodes[i];
        switch (key) {
          case '_declaration': xml.push('<?xml' + attributesOf(node._attributes) + '?>'); break;
          case '_instruction': xml.push(instructionOf(node)); break;
          case '_attributes': case '_parent': break;
          case '_text': xml.push(textOf(node)); break;
          case '_cdata': xml.push('<![CDATA[' + node.replace(']]>', ']]]]><![CDATA[>') + ']]>'); break;
          case '_doctype': xml.push(indentation(depth, firstLine) + '<!DOCTYPE ' + node + '>'); break;
          case '_comment': xml.push(indentation(depth, firstLine) + '<!--' + node + '-->'); break;
          default: xml.push(indentation(depth, firstLine) + elementOf(node, key, depth, hasContent(node, false)));
        }
        firstLine = firstLine && !xml.length;
      }
    }
    return xml.join('');
  };
  return elementsOf(js, 0, true);
}

// ---- xml2js: sax 1.6's strict parser (lib/sax.js, its strict branches) feeding xml-js's compact handlers
// (lib/xml2js.js).

// sax's table: XML's five and the HTML 4 names (code points in base 36).
const ENTITIES = Object.assign(Object.create(null), { amp: '&', gt: '>', lt: '<', quot: '"', apos: "'" });
for (const pair of 'AElig:5i,Aacute:5d,Acirc:5e,Agrave:5c,Aring:5h,Atilde:5f,Auml:5g,Ccedil:5j,ETH:5s,Eacute:5l,Ecirc:5m,Egrave:5k,Euml:5n,Iacute:5p,Icirc:5q,Igrave:5o,Iuml:5r,Ntilde:5t,Oacute:5v,Ocirc:5w,Ograve:5u,Oslash:60,Otilde:5x,Ouml:5y,THORN:66,Uacute:62,Ucirc:63,Ugrave:61,Uuml:64,Yacute:65,aacute:69,acirc:6a,aelig:6e,agrave:68,aring:6d,atilde:6b,auml:6c,ccedil:6f,eacute:6h,ecirc:6i,egrave:6g,eth:6o,euml:6j,iacute:6l,icirc:6m,igrave:6k,iuml:6n,ntilde:6p,oacute:6r,ocirc:6s,ograve:6q,oslash:6w,otilde:6t,ouml:6u,szlig:67,thorn:72,uacute:6y,ucirc:6z,ugrave:6x,uuml:70,yacute:71,yuml:73,copy:4p,reg:4u,nbsp:4g,iexcl:4h,cent:4i,pound:4j,curren:4k,yen:4l,brvbar:4m,sect:4n,uml:4o,ordf:4q,laquo:4r,not:4s,shy:4t,macr:4v,deg:4w,plusmn:4x,sup1:55,sup2:4y,sup3:4z,acute:50,micro:51,para:52,middot:53,cedil:54,ordm:56,raquo:57,frac14:58,frac12:59,frac34:5a,iquest:5b,times:5z,divide:6v,OElig:9e,oelig:9f,Scaron:9s,scaron:9t,Yuml:ag,fnof:b6,circ:jq,tilde:kc,Alpha:pd,Beta:pe,Gamma:pf,Delta:pg,Epsilon:ph,Zeta:pi,Eta:pj,Theta:pk,Iota:pl,Kappa:pm,Lambda:pn,Mu:po,Nu:pp,Xi:pq,Omicron:pr,Pi:ps,Rho:pt,Sigma:pv,Tau:pw,Upsilon:px,Phi:py,Chi:pz,Psi:q0,Omega:q1,alpha:q9,beta:qa,gamma:qb,delta:qc,epsilon:qd,zeta:qe,eta:qf,theta:qg,iota:qh,kappa:qi,lambda:qj,mu:qk,nu:ql,xi:qm,omicron:qn,pi:qo,rho:qp,sigmaf:qq,sigma:qr,tau:qs,upsilon:qt,phi:qu,chi:qv,psi:qw,omega:qx,thetasym:r5,upsih:r6,piv:ra,ensp:6bm,emsp:6bn,thinsp:6bt,zwnj:6bw,zwj:6bx,lrm:6by,rlm:6bz,ndash:6c3,mdash:6c4,lsquo:6c8,rsquo:6c9,sbquo:6ca,ldquo:6cc,rdquo:6cd,bdquo:6ce,dagger:6cg,Dagger:6ch,bull:6ci,hellip:6cm,permil:6cw,prime:6cy,Prime:6cz,lsaquo:6d5,rsaquo:6d6,oline:6da,frasl:6dg,euro:6gc,image:6j5,weierp:6jc,real:6jg,trade:6jm,alefsym:6k5,larr:6mo,uarr:6mp,rarr:6mq,darr:6mr,harr:6ms,crarr:6np,lArr:6og,uArr:6oh,rArr:6oi,dArr:6oj,hArr:6ok,forall:6ps,part:6pu,exist:6pv,empty:6px,nabla:6pz,isin:6q0,notin:6q1,ni:6q3,prod:6q7,sum:6q9,minus:6qa,lowast:6qf,radic:6qi,prop:6ql,infin:6qm,ang:6qo,and:6qv,or:6qw,cap:6qx,cup:6qy,int:6qz,there4:6r8,sim:6rg,cong:6rp,asymp:6rs,ne:6sg,equiv:6sh,le:6sk,ge:6sl,sub:6te,sup:6tf,nsub:6tg,sube:6ti,supe:6tj,oplus:6tx,otimes:6tz,perp:6ud,sdot:6v9,lceil:6x4,rceil:6x5,lfloor:6x6,rfloor:6x7,lang:6y1,rang:6y2,loz:7gq,spades:7kw,clubs:7kz,hearts:7l1,diams:7l2'.split(',')) {
  const [name, code] = pair.split(':');
  ENTITIES[name] = String.fromCharCode(parseInt(code, 36));
}
const NAME = ':_A-Za-z\\u00C0-\\u00D6\\u00D8-\\u00F6\\u00F8-\\u02FF\\u0370-\\u037D\\u037F-\\u1FFF\\u200C-\\u200D\\u2070-\\u218F\\u2C00-\\u2FEF\\u3001-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFFD';
const BODY = '\\u00B7\\u0300-\\u036F\\u203F-\\u2040.\\d-';
const nameStart = new RegExp(`[${NAME}]`);
const nameBody = new RegExp(`[${NAME}${BODY}]`);
const entityStart = new RegExp(`[#${NAME}]`);
const entityBody = new RegExp(`[#${NAME}${BODY}]`);
const isWhitespace = (c) => c === ' ' || c === '\n' || c === '\r' || c === '\t';
const isQuote = (c) => c === '"' || c === "'";
const isXmlChar = (n) => n === 0x9 || n === 0xa || n === 0xd || (n >= 0x20 && n <= 0xd7ff) || (n >= 0xe000 && n <= 0xfffd) || (n >= 0x10000 && n <= 0x10ffff);
/** sax checks its buffers once a write has passed this many characters (sax.MAX_BUFFER_LENGTH). */
const MAX_BUFFER = 64 * 1024;

// The states sax's strict parser passes through (sax.STATE, without the non-strict SCRIPT ones).
const BEGIN = 0, BEGIN_WHITESPACE = 1, TEXT = 2, TEXT_ENTITY = 3, OPEN_WAKA = 4, SGML_DECL = 5, SGML_DECL_QUOTED = 6,
  DOCTYPE = 7, DOCTYPE_QUOTED = 8, DOCTYPE_DTD = 9, DOCTYPE_DTD_QUOTED = 10, COMMENT = 12, COMMENT_ENDING = 13,
  COMMENT_ENDED = 14, CDATA = 15, CDATA_ENDING = 16, CDATA_ENDING_2 = 17, PROC_INST = 18, PROC_INST_BODY = 19,
  PROC_INST_ENDING = 20, OPEN_TAG = 21, OPEN_TAG_SLASH = 22, ATTRIB = 23, ATTRIB_NAME = 24, ATTRIB_NAME_SAW_WHITE = 25,
  ATTRIB_VALUE = 26, ATTRIB_VALUE_QUOTED = 27, ATTRIB_VALUE_CLOSED = 28, ATTRIB_VALUE_ENTITY_Q = 30, CLOSE_TAG = 32,
  CLOSE_TAG_SAW_WHITE = 33;

/** The attributes of `<?xml ...?>` as xml-js reads them, /([\w:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|(\w+))\s*\/g, in one pass. */
function declarationAttributes(body) {
  const attributes = {};
  const nameChar = (c) => /[\w:-]/.test(c);
  const space = (c) => /\s/.test(c);
  const lastQuote = { '"': body.lastIndexOf('"'), "'": body.lastIndexOf("'") };
  let p = 0;
  while (p < body.length) {
    if (!nameChar(body[p])) { p++; continue; }
    let e = p;
    while (e < body.length && nameChar(body[e])) e++;
    // A match starting inside this run of name characters ends the same way as one starting at its first: none.
    let v = e;
    while (v < body.length && space(body[v])) v++;
    let value, end;
    if (body[v] === '=') {
      v++;
      while (v < body.length && space(body[v])) v++;
      const c = body[v];
      if (isQuote(c)) {
        if (lastQuote[c] > v) {
          end = body.indexOf(c, v + 1);
          value = body.slice(v + 1, end) || undefined;
          end++;
        }
      } else if (/\w/.test(c ?? '')) {
        end = v;
        while (end < body.length && /\w/.test(body[end])) end++;
        value = body.slice(v, end);
      }
    }
    if (end === undefined) { p = e; continue; }
    while (end < body.length && space(body[end])) end++;
    attributes[body.slice(p, e)] = value;
    p = end;
  }
  return attributes;
}

export function xml2js(xml, userOptions) {
  const options = optionsOf(userOptions, ['compact', 'trim', 'textFn', 'elementNameFn', 'attributesFn', 'ignoreDeclaration'], 'xml2js');
  const trim = flag(options.trim);
  const result = {};
  let current = result;

  // xml-js's compact handlers.
  const manipulateAttributes = (attributes) => {
    if ('attributesFn' in options && attributes) attributes = options.attributesFn(attributes, current);
    if (trim && attributes) for (const key in attributes) if (attributes.hasOwnProperty(key)) attributes[key] = attributes[key].trim();
    return attributes;
  };
  const addField = (type, value) => {
    const key = '_' + type;
    if (current[key] && !isArray(current[key])) current[key] = [current[key]];
    if (type === 'text' && 'textFn' in options && typeof value === 'string') value = options.textFn(value, current);
    if (isArray(current[key])) current[key].push(value);
    else current[key] = value;
  };
  const onText = (text) => {
    if (!text.trim()) return;
    addField('text', trim ? text.trim() : text);
  };
  const onOpenTag = (tag) => {
    let name = tag.name;
    const attributes = manipulateAttributes(tag.attributes);
    if ('elementNameFn' in options) name = options.elementNameFn(name, current);
    const element = {};
    if (attributes && Object.keys(attributes).length) {
      element._attributes = {};
      for (const key in attributes) if (attributes.hasOwnProperty(key)) element._attributes[key] = attributes[key];
    }
    if (current[name] && !isArray(current[name])) current[name] = [current[name]];
    if (isArray(current[name])) current[name].push(element);
    else current[name] = element;
    element._parent = current;
    current = element;
  };
  const onCloseTag = () => {
    const parent = current._parent;
    delete current._parent;
    current = parent;
  };
  const onInstruction = (name, body) => {
    let attributes = {};
    const declaration = name.toLowerCase() === 'xml';
    if (body && declaration) attributes = manipulateAttributes(declarationAttributes(body));
    if (declaration) {
      if (flag(options.ignoreDeclaration)) return;
      current._declaration = {};
      if (Object.keys(attributes).length) current._declaration._attributes = attributes;
      return;
    }
    // Assigned, not a computed key: a PI named __proto__ is dropped as in xml-js.
    const value = {};
    value[name] = trim ? body.trim() : body;
    addField('instruction', value);
  };

  // sax's parser state.
  let state = BEGIN, c = '', i = 0, q = '';
  let textNode = '', tagName = '', attribName = '', attribValue = '', comment = '', sgmlDecl = '', doctype = '';
  let procInstName = '', procInstBody = '', entity = '', cdata = '';
  let tag = null, sawRoot = false, closedRoot = false;
  const tags = [];
  const fail = (message) => {
    const at = Math.max(i - 1, 0);
    const line = (xml.slice(0, at + 1).match(/\n/g) ?? []).length;
    throw new Error(`${message}\nLine: ${line}\nColumn: ${at - xml.lastIndexOf('\n', at)}\nChar: ${c}`);
  };
  const closeText = () => {
    if (textNode) onText(textNode);
    textNode = '';
  };
  const newTag = () => {
    closeText();
    tag = { name: tagName, attributes: {} };
  };
  const attrib = () => {
    if (!tag.attributes.hasOwnProperty(attribName)) tag.attributes[attribName] = attribValue;
    attribName = attribValue = '';
  };
  const openTag = (selfClosing) => {
    tag.isSelfClosing = !!selfClosing;
    sawRoot = true;
    tags.push(tag);
    closeText();
    onOpenTag(tag);
    if (!selfClosing) {
      state = TEXT;
      tag = null;
      tagName = '';
    }
    attribName = attribValue = '';
  };
  const closeTag = () => {
    if (!tagName) fail('Weird empty close tag.');
    // sax fails at the first open tag that does not match and reports the last failure: an unmatched name.
    if (!tags.length || tags[tags.length - 1].name !== tagName) fail(tags.some((open) => open.name === tagName) ? 'Unexpected close tag' : 'Unmatched closing tag: ' + tagName);
    tag = tags.pop();
    closeText();
    onCloseTag();
    if (!tags.length) closedRoot = true;
    tagName = attribValue = attribName = '';
    state = TEXT;
  };
  const parseEntity = () => {
    const lower = entity.toLowerCase();
    if (ENTITIES[entity]) return ENTITIES[entity];
    if (ENTITIES[lower]) return ENTITIES[lower];
    let digits = lower, num, numStr = '';
    if (digits.charAt(0) === '#') {
      if (digits.charAt(1) === 'x') {
        digits = digits.slice(2);
        num = parseInt(digits, 16);
        numStr = num.toString(16);
      } else {
        digits = digits.slice(1);
        num = parseInt(digits, 10);
        numStr = num.toString(10);
      }
    }
    digits = digits.replace(/^0+/, '');
    if (isNaN(num) || numStr.toLowerCase() !== digits || num < 0 || num > 0x10ffff || !isXmlChar(num)) fail('Invalid character entity');
    return String.fromCodePoint(num);
  };
  const beginWhiteSpace = () => {
    if (c === '<') state = OPEN_WAKA;
    else if (!isWhitespace(c)) fail('Non-whitespace before first tag.');
  };

  if (xml === null) return result;
  xml = typeof xml === 'object' ? xml.toString() : xml;
  const length = xml.length;
  while (i < length) {
    c = xml.charAt(i++);
    switch (state) {
      case BEGIN:
        state = BEGIN_WHITESPACE;
        if (c === '\uFEFF') continue;
        beginWhiteSpace();
        continue;
      case BEGIN_WHITESPACE:
        beginWhiteSpace();
        continue;
      case TEXT:
        if (sawRoot && !closedRoot) {
          const start = i - 1;
          while (c && c !== '<' && c !== '&') c = xml.charAt(i++);
          textNode += xml.substring(start, i - 1);
        }
        if (c === '<') state = OPEN_WAKA;
        else {
          if (!isWhitespace(c) && (!sawRoot || closedRoot)) fail('Text data outside of root node.');
          if (c === '&') state = TEXT_ENTITY;
          else textNode += c;
        }
        continue;
      case OPEN_WAKA:
        if (c === '!') {
          state = SGML_DECL;
          sgmlDecl = '';
        } else if (isWhitespace(c)) {
          // sax waits for the name: `< a>` opens a.
        } else if (nameStart.test(c)) {
          state = OPEN_TAG;
          tagName = c;
        } else if (c === '/') {
          state = CLOSE_TAG;
          tagName = '';
        } else if (c === '?') {
          state = PROC_INST;
          procInstName = procInstBody = '';
        } else fail('Unencoded <');
        continue;
      case SGML_DECL:
        if (sgmlDecl + c === '--') {
          state = COMMENT;
          comment = sgmlDecl = '';
        } else if (doctype && doctype !== true && sgmlDecl) {
          state = DOCTYPE_DTD;
          doctype += '<!' + sgmlDecl + c;
          sgmlDecl = '';
        } else if (sgmlDecl.length === 6 && /^\[CDATA\[$/i.test(sgmlDecl + c)) {
          closeText();
          state = CDATA;
          sgmlDecl = cdata = '';
        } else if (sgmlDecl.length === 6 && /^DOCTYPE$/i.test(sgmlDecl + c)) {
          state = DOCTYPE;
          if (doctype || sawRoot) fail('Inappropriately located doctype declaration');
          doctype = sgmlDecl = '';
        } else if (c === '>') {
          // An SGML declaration (`<!foo>`): sax reports it, xml-js keeps nothing of it; the text before it ends.
          closeText();
          sgmlDecl = '';
          state = TEXT;
        } else if (isQuote(c)) {
          // sax does not note which quote opened (its `q` is empty here), so nothing closes it: the rest of the
          // document is this declaration.
          state = SGML_DECL_QUOTED;
          sgmlDecl += c;
        } else sgmlDecl += c;
        continue;
      case SGML_DECL_QUOTED:
        if (c === q) {
          state = SGML_DECL;
          q = '';
        }
        sgmlDecl += c;
        continue;
      case DOCTYPE:
        if (c === '>') {
          state = TEXT;
          closeText();
          onDoctype(doctype);
          doctype = true;
        } else {
          doctype += c;
          if (c === '[') state = DOCTYPE_DTD;
          else if (isQuote(c)) {
            state = DOCTYPE_QUOTED;
            q = c;
          }
        }
        continue;
      case DOCTYPE_QUOTED:
        doctype += c;
        if (c === q) {
          q = '';
          state = DOCTYPE;
        }
        continue;
      case DOCTYPE_DTD:
        if (c === ']') {
          doctype += c;
          state = DOCTYPE;
        } else if (c === '<') state = OPEN_WAKA;
        else if (isQuote(c)) {
          doctype += c;
          state = DOCTYPE_DTD_QUOTED;
          q = c;
        } else doctype += c;
        continue;
      case DOCTYPE_DTD_QUOTED:
        doctype += c;
        if (c === q) {
          state = DOCTYPE_DTD;
          q = '';
        }
        continue;
      case COMMENT:
        if (c === '-') state = COMMENT_ENDING;
        else comment += c;
        continue;
      case COMMENT_ENDING:
        if (c === '-') {
          state = COMMENT_ENDED;
          if (comment) {
            closeText();
            onComment(comment);
          }
          comment = '';
        } else {
          comment += '-' + c;
          state = COMMENT;
        }
        continue;
      case COMMENT_ENDED:
        if (c !== '>') fail('Malformed comment');
        state = doctype && doctype !== true ? DOCTYPE_DTD : TEXT;
        continue;
      case CDATA: {
        const start = i - 1;
        while (c && c !== ']') c = xml.charAt(i++);
        cdata += xml.substring(start, i - 1);
        if (c === ']') state = CDATA_ENDING;
        continue;
      }
      case CDATA_ENDING:
        if (c === ']') state = CDATA_ENDING_2;
        else {
          cdata += ']' + c;
          state = CDATA;
        }
        continue;
      case CDATA_ENDING_2:
        if (c === '>') {
          if (cdata) onCdata(cdata);
          cdata = '';
          state = TEXT;
        } else if (c === ']') cdata += ']';
        else {
          cdata += ']]' + c;
          state = CDATA;
        }
        continue;
      case PROC_INST:
        if (c === '?') state = PROC_INST_ENDING;
        else if (isWhitespace(c)) state = PROC_INST_BODY;
        else procInstName += c;
        continue;
      case PROC_INST_BODY:
        if (!procInstBody && isWhitespace(c)) continue;
        else if (c === '?') state = PROC_INST_ENDING;
        else procInstBody += c;
        continue;
      case PROC_INST_ENDING:
        if (c === '>') {
          closeText();
          onInstruction(procInstName, procInstBody);
          procInstName = procInstBody = '';
          state = TEXT;
        } else {
          procInstBody += '?' + c;
          state = PROC_INST_BODY;
        }
        continue;
      case OPEN_TAG:
        if (nameBody.test(c)) tagName += c;
        else {
          newTag();
          if (c === '>') openTag();
          else if (c === '/') state = OPEN_TAG_SLASH;
          else {
            if (!isWhitespace(c)) fail('Invalid character in tag name');
            state = ATTRIB;
          }
        }
        continue;
      case OPEN_TAG_SLASH:
        if (c !== '>') fail('Forward-slash in opening tag not followed by >');
        openTag(true);
        closeTag();
        continue;
      case ATTRIB:
        if (isWhitespace(c)) continue;
        else if (c === '>') openTag();
        else if (c === '/') state = OPEN_TAG_SLASH;
        else if (nameStart.test(c)) {
          attribName = c;
          attribValue = '';
          state = ATTRIB_NAME;
        } else fail('Invalid attribute name');
        continue;
      case ATTRIB_NAME:
        if (c === '=') state = ATTRIB_VALUE;
        else if (c === '>') fail('Attribute without value');
        else if (isWhitespace(c)) state = ATTRIB_NAME_SAW_WHITE;
        else if (nameBody.test(c)) attribName += c;
        else fail('Invalid attribute name');
        continue;
      case ATTRIB_NAME_SAW_WHITE:
        if (c === '=') state = ATTRIB_VALUE;
        else if (!isWhitespace(c)) fail('Attribute without value');
        continue;
      case ATTRIB_VALUE:
        if (isWhitespace(c)) continue;
        if (!isQuote(c)) fail('Unquoted attribute value');
        q = c;
        state = ATTRIB_VALUE_QUOTED;
        continue;
      case ATTRIB_VALUE_QUOTED:
        if (c !== q) {
          if (c === '&') state = ATTRIB_VALUE_ENTITY_Q;
          else attribValue += c;
          continue;
        }
        attrib();
        q = '';
        state = ATTRIB_VALUE_CLOSED;
        continue;
      case ATTRIB_VALUE_CLOSED:
        if (isWhitespace(c)) state = ATTRIB;
        else if (c === '>') openTag();
        else if (c === '/') state = OPEN_TAG_SLASH;
        else if (nameStart.test(c)) fail('No whitespace between attributes');
        else fail('Invalid attribute name');
        continue;
      case CLOSE_TAG:
        if (!tagName) {
          if (isWhitespace(c)) continue;
          else if (!nameStart.test(c)) fail('Invalid tagname in closing tag.');
          else tagName = c;
        } else if (c === '>') closeTag();
        else if (nameBody.test(c)) tagName += c;
        else {
          if (!isWhitespace(c)) fail('Invalid tagname in closing tag');
          state = CLOSE_TAG_SAW_WHITE;
        }
        continue;
      case CLOSE_TAG_SAW_WHITE:
        if (isWhitespace(c)) continue;
        if (c !== '>') fail('Invalid characters in closing tag');
        closeTag();
        continue;
      case TEXT_ENTITY:
      case ATTRIB_VALUE_ENTITY_Q: {
        const inText = state === TEXT_ENTITY;
        if (c === ';') {
          const parsed = parseEntity();
          if (inText) textNode += parsed;
          else attribValue += parsed;
          entity = '';
          state = inText ? TEXT : ATTRIB_VALUE_QUOTED;
        } else if ((entity.length ? entityBody : entityStart).test(c)) entity += c;
        else fail('Invalid character in entity name');
        continue;
      }
    }
  }
  c = '';
  // What sax does once the whole text is written: past MAX_BUFFER characters it checks its buffers, emitting a
  // long pending text or CDATA and failing on any other buffer that long (a document cut short inside it).
  if (length >= MAX_BUFFER) {
    const buffers = { comment, sgmlDecl, textNode, tagName, doctype, procInstName, procInstBody, entity, attribName, attribValue, cdata };
    for (const [name, buffer] of Object.entries(buffers)) {
      if (!(buffer.length > MAX_BUFFER)) continue;
      if (name === 'textNode') closeText();
      else if (name === 'cdata') {
        closeText();
        onCdata(cdata);
        cdata = '';
      } else fail('Max buffer length exceeded: ' + name);
    }
  }
  // sax's close(): the errors of its end() (an unclosed root, a document cut short) are reset before anyone
  // sees them, so what was read is returned; only the pending text is delivered.
  closeText();

  if (result._elements) {
    const elements = result._elements;
    delete result._elements;
    result._elements = elements;
    delete result.text;
  }
  return result;

  function onComment(text) {
    addField('comment', trim ? text.trim() : text);
  }
  function onCdata(text) {
    addField('cdata', trim ? text.trim() : text);
  }
  function onDoctype(text) {
    text = text.replace(/^ /, '');
    addField('doctype', trim ? text.trim() : text);
  }
}

const leftOutCall = (what) => () => {
  throw leftOut(what);
};
export const xml2json = leftOutCall('xml2json');
export const json2xml = leftOutCall('json2xml');

export default { js2xml, xml2js, xml2json, json2xml };
