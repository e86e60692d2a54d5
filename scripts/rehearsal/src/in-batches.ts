/** Runs `work` over `items`, `width` at a time. */
export async function inBatches<T>(items: ReadonlyArray<T>, width: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await work(items[next++]!)
    }),
  )
}
