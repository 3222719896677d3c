import type { StoreItem } from './store.ts';

/** Small helpers over `Store.iterate` results. */
export function firstItem(iter: AsyncIterable<StoreItem>): Promise<IteratorResult<StoreItem>> {
  return iter[Symbol.asyncIterator]().next();
}

export async function collectItems(iter: AsyncIterable<StoreItem>): Promise<StoreItem[]> {
  const items: StoreItem[] = [];
  for await (const item of iter) items.push(item);
  return items;
}
