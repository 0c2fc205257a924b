/**
 * A fast 32-bit string hash for the consistent-hash ring: FNV-1a over UTF-16 code units, then
 * MurmurHash3's finaliser so that similar strings (`a#1`, `a#2`) land far apart on the ring.
 * Not cryptographic; keys come from the caller, and a skewed key set is handled by bounded load.
 */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
