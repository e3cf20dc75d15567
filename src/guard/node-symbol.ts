/**
 * Node keeps some per-object state under private symbols (`kCapture` on an emitter,
 * `kOutHeaders` on a response). The guard reads two of them where the public API has no
 * equivalent and the alternative costs on every request; each is found once, by its
 * description, on an object Node has just built. A Node that renames one gets undefined, and
 * the caller falls back to the slower public way.
 */
export function nodeSymbol(owner: object, description: string): symbol | undefined {
  return Object.getOwnPropertySymbols(owner).find((symbol) => symbol.description === description);
}
