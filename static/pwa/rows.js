// Records read and written in one IndexedDB transaction without waiting on each request.
// Awaited one by one, every request is a round trip between the page and the database: a sync
// that stored 500 outcomes made 2,000 of them, 2 s of 2.7 s at 4× CPU throttle, the page idle
// (BENCHMARKS.md, figure 5). A transaction runs its requests in the order they were made, so
// they can all be sent at once; what a read must see is kept here.

/** A request sent and not awaited: if it fails the transaction aborts and `tx.done` rejects,
 * so it needs no handler of its own. */
export function sent(request) { request.catch(() => {}); }

export class Rows {
  /** @param {any} tx an idb transaction over every store used */
  constructor(tx) {
    this.tx = tx;
    /** @type {Map<string, Promise<any>>} "store id" → the record as the writes made so far left it */
    this.known = new Map();
  }

  /** The record, read once: after a write through this object, what was written. */
  read(store, id) {
    const key = `${store} ${id}`;
    if (!this.known.has(key)) this.known.set(key, this.tx.objectStore(store).get(id));
    return /** @type {Promise<any>} */ (this.known.get(key));
  }

  put(store, row) {
    this.known.set(`${store} ${row.id}`, Promise.resolve(row));
    sent(this.tx.objectStore(store).put(row));
  }

  remove(store, id) {
    this.known.set(`${store} ${id}`, Promise.resolve(undefined));
    sent(this.tx.objectStore(store).delete(id));
  }

  /** Something else wrote to these stores (a redirect): read again from the database. */
  forget() { this.known.clear(); }
}
