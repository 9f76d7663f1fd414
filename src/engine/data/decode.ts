// The bytes of a file as text. CSV files come as UTF-8 (with or without a byte-order mark),
// as UTF-16 (Excel's "Unicode Text", PowerShell's default), or, from older Excel versions in
// Western locales, as Windows-1252. The byte-order mark decides when there is one; UTF-16
// without one shows as NUL bytes beside the ASCII characters; bytes that are not valid UTF-8
// are read as Windows-1252 (every byte is a character there), so no file is refused for its
// encoding.

export type TextEncoding = "utf-8" | "utf-16le" | "utf-16be" | "windows-1252";

export interface DecodedText {
  text: string;
  encoding: TextEncoding;
  /** A byte-order mark was found (and removed). */
  bom: boolean;
}

/** UTF-16 without a byte-order mark: NUL bytes at odd (LE) or even (BE) offsets of ASCII text. */
function utf16WithoutBom(b: Uint8Array): TextEncoding | null {
  const n = Math.min(b.length & ~1, 4096);
  if (n < 4) return null;
  let evenNul = 0, oddNul = 0;
  for (let i = 0; i < n; i += 2) {
    if (b[i] === 0 && b[i + 1] !== 0) evenNul++;
    if (b[i + 1] === 0 && b[i] !== 0) oddNul++;
  }
  const pairs = n / 2;
  if (oddNul > 0.3 * pairs && evenNul === 0) return "utf-16le";
  if (evenNul > 0.3 * pairs && oddNul === 0) return "utf-16be";
  return null;
}

export function decodeText(bytes: Uint8Array): DecodedText {
  const b = bytes;
  if (b.length >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) {
    return { text: new TextDecoder("utf-8").decode(b.subarray(3)), encoding: "utf-8", bom: true };
  }
  if (b.length >= 2 && b[0] === 0xff && b[1] === 0xfe) return { text: new TextDecoder("utf-16le").decode(b.subarray(2)), encoding: "utf-16le", bom: true };
  if (b.length >= 2 && b[0] === 0xfe && b[1] === 0xff) return { text: new TextDecoder("utf-16be").decode(b.subarray(2)), encoding: "utf-16be", bom: true };
  const u16 = utf16WithoutBom(b);
  if (u16) return { text: new TextDecoder(u16).decode(b), encoding: u16, bom: false };
  try {
    return { text: new TextDecoder("utf-8", { fatal: true }).decode(b), encoding: "utf-8", bom: false };
  } catch {
    return { text: new TextDecoder("windows-1252").decode(b), encoding: "windows-1252", bom: false };
  }
}
