/** A queue with O(1) push and shift, and a way to put a taken batch back at the front. */
export class Fifo<T> {
  private items: T[] = [];
  private head = 0;

  get size(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  peek(): T | undefined {
    return this.items[this.head];
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head++];
    if (this.head > 1_024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  /** Puts `batch` (taken from the front, in order) back in front of everything else. */
  unshiftAll(batch: readonly T[]): void {
    this.items = [...batch, ...this.items.slice(this.head)];
    this.head = 0;
  }
}
