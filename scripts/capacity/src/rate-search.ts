// The capacity search's strategy, apart from the cluster it measures: which rate to try next and
// when a rate counts as past capacity. Pure, so that its tests need no cluster.

/** The search's finest distinction between two rates, in requests per second. */
export const RESOLUTION = 25

/**
 * The next rate to try between the last one within capacity and the first past it: their
 * middle, on a multiple of RESOLUTION; null when they are that close already, or either is unknown.
 */
export function refine(lastPass: number | null, firstFail: number | null): number | null {
  if (lastPass === null || firstFail === null || firstFail - lastPass <= RESOLUTION) return null
  const mid = Math.round((lastPass + firstFail) / 2 / RESOLUTION) * RESOLUTION
  return mid > lastPass && mid < firstFail ? mid : null
}

export interface RateSearch {
  /** The highest rate within capacity; null when the first rate was already past it. */
  lastPass: number | null
  /** The lowest rate past capacity; null when every rate tried was within it. */
  firstFail: number | null
}

/**
 * Steps up through `rates` until one is past capacity, then halves the gap between the last rate
 * within and that one down to RESOLUTION. `measure(rate)` runs one step and says whether it met
 * the bar. A rate is past capacity when it misses the bar twice in a row: on a shared machine one
 * step in a while misses it far below capacity, and one such step would end the search there.
 */
export async function searchRates(
  rates: readonly number[],
  measure: (rate: number) => Promise<boolean>,
  onRetry: (rate: number) => void = () => {},
): Promise<RateSearch> {
  const within = async (rate: number): Promise<boolean> => {
    if (await measure(rate)) return true
    onRetry(rate)
    return measure(rate)
  }
  let lastPass: number | null = null
  let firstFail: number | null = null
  for (const rate of rates) {
    if (await within(rate)) lastPass = rate
    else {
      firstFail = rate
      break
    }
  }
  for (let mid = refine(lastPass, firstFail); mid !== null; mid = refine(lastPass, firstFail)) {
    if (await within(mid)) lastPass = mid
    else firstFail = mid
  }
  return { lastPass, firstFail }
}
