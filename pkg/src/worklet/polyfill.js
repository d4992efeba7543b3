// Minimal UTF-8 TextDecoder / TextEncoder for AudioWorkletGlobalScope, which
// has neither. wasm-bindgen's glue constructs both when it is evaluated, so
// this module must be imported BEFORE the glue (ES modules evaluate their
// imports in order). It defines nothing where the real ones exist.
//
// Only what the glue uses: `new TextDecoder('utf-8', {ignoreBOM})`,
// `decode(bytes?)`, `new TextEncoder()`, `encode(str)`, `encodeInto(str, u8)`.
// Invalid UTF-8 decodes to U+FFFD per maximal subpart, like the real one.

const g = globalThis;

if (typeof g.TextDecoder === 'undefined') {
  g.TextDecoder = class TextDecoder {
    constructor(label = 'utf-8', options = {}) {
      const l = String(label).toLowerCase();
      if (l !== 'utf-8' && l !== 'utf8') throw new RangeError(`TextDecoder: only utf-8 (got ${label})`);
      this.encoding = 'utf-8';
      this.fatal = !!options.fatal;
      this.ignoreBOM = !!options.ignoreBOM;
    }
    decode(input) {
      if (input === undefined) return '';
      const b = input instanceof Uint8Array ? input
        : ArrayBuffer.isView(input) ? new Uint8Array(input.buffer, input.byteOffset, input.byteLength)
        : new Uint8Array(input);
      let i = 0;
      const n = b.length;
      if (!this.ignoreBOM && n >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) i = 3;
      let out = '';
      const units = [];
      const flush = () => { out += String.fromCharCode.apply(null, units); units.length = 0; };
      const bad = () => {
        if (this.fatal) throw new TypeError('TextDecoder: invalid utf-8');
        units.push(0xfffd);
      };
      while (i < n) {
        const c = b[i];
        if (c < 0x80) { units.push(c); i++; }
        else {
          let need, cp, lo = 0x80, hi = 0xbf;
          if (c >= 0xc2 && c <= 0xdf) { need = 1; cp = c & 0x1f; }
          else if (c >= 0xe0 && c <= 0xef) {
            need = 2; cp = c & 0x0f;
            if (c === 0xe0) lo = 0xa0; else if (c === 0xed) hi = 0x9f;
          } else if (c >= 0xf0 && c <= 0xf4) {
            need = 3; cp = c & 0x07;
            if (c === 0xf0) lo = 0x90; else if (c === 0xf4) hi = 0x8f;
          } else { bad(); i++; continue; }
          i++;
          let ok = true;
          for (let k = 0; k < need; k++) {
            const d = b[i];
            if (i >= n || d < lo || d > hi) { ok = false; break; }
            lo = 0x80; hi = 0xbf;
            cp = (cp << 6) | (d & 0x3f);
            i++;
          }
          if (!ok) { bad(); continue; }
          if (cp >= 0x10000) {
            cp -= 0x10000;
            units.push(0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff));
          } else units.push(cp);
        }
        if (units.length >= 8192) flush();
      }
      flush();
      return out;
    }
  };
}

if (typeof g.TextEncoder === 'undefined') {
  g.TextEncoder = class TextEncoder {
    get encoding() { return 'utf-8'; }
    encode(str = '') {
      const s = String(str);
      const tmp = new Uint8Array(s.length * 3);
      const { written } = this.encodeInto(s, tmp);
      return tmp.slice(0, written);
    }
    encodeInto(str, dest) {
      const s = String(str);
      let read = 0, w = 0;
      const n = dest.length;
      for (let i = 0; i < s.length; i++) {
        let cp = s.charCodeAt(i);
        let units = 1;
        if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < s.length) {
          const lo = s.charCodeAt(i + 1);
          if (lo >= 0xdc00 && lo <= 0xdfff) { cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00); units = 2; }
          else cp = 0xfffd;
        } else if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd;
        const len = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
        if (w + len > n) break;
        if (len === 1) dest[w++] = cp;
        else if (len === 2) { dest[w++] = 0xc0 | (cp >> 6); dest[w++] = 0x80 | (cp & 0x3f); }
        else if (len === 3) {
          dest[w++] = 0xe0 | (cp >> 12); dest[w++] = 0x80 | ((cp >> 6) & 0x3f); dest[w++] = 0x80 | (cp & 0x3f);
        } else {
          dest[w++] = 0xf0 | (cp >> 18); dest[w++] = 0x80 | ((cp >> 12) & 0x3f);
          dest[w++] = 0x80 | ((cp >> 6) & 0x3f); dest[w++] = 0x80 | (cp & 0x3f);
        }
        read += units;
        if (units === 2) i++;
      }
      return { read, written: w };
    }
  };
}
