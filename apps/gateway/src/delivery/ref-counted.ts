interface Entry<V> {
  value: V;
  refs: number;
  ready: Promise<void>;
}

/**
 * Things shared by reference count, such as a node's subscription to a topic: the first
 * `retain` of a key opens it, later ones wait for the same opening, and the last `release`
 * closes it. A failed opening is forgotten without being closed, so the next `retain` tries
 * again.
 */
export class RefCounted<K, V> {
  private readonly entries = new Map<K, Entry<V>>();

  constructor(
    /** Creates the value at once; `ready` settles when it can be used. */
    private readonly open: (key: K) => { value: V; ready: Promise<void> },
    private readonly close: (key: K, value: V) => void,
  ) {}

  async retain(key: K): Promise<V> {
    let entry = this.entries.get(key);
    if (!entry) {
      const created: Entry<V> = { ...this.open(key), refs: 0 };
      created.ready.catch(() => {
        if (this.entries.get(key) === created) this.entries.delete(key);
      });
      this.entries.set(key, (entry = created));
    }
    entry.refs++;
    try {
      await entry.ready;
    } catch (error) {
      this.release(key);
      throw error;
    }
    return entry.value;
  }

  release(key: K): void {
    const entry = this.entries.get(key);
    if (!entry || --entry.refs > 0) return;
    this.entries.delete(key);
    this.close(key, entry.value);
  }

  get(key: K): V | undefined {
    return this.entries.get(key)?.value;
  }

  values(): V[] {
    return [...this.entries.values()].map((entry) => entry.value);
  }
}
