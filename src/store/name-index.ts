// The names of all workspaces in the store's order, kept for pages of the unfiltered list (what the
// console and most scripts ask for): with it a page is a slice, where SQLite counts every row and
// walks the index up to the page's offset on each request. Workspaces are long-lived, so the set of
// names changes rarely; anything else written leaves it as it is.
//
// Kept by the same rule as the decoded records (workspace-cache.ts): filled only in the same synchronous
// step as a read that ran while nothing held the one connection (so it is committed state), dropped
// when an insert or delete of a workspace is issued, and not filled again until every such write has
// run. Filling reads every name, so it waits until pages have been asked for a few times since the last
// change: a store that creates workspaces as often as it lists them keeps answering from SQL.
export class NameIndex {
  private names: readonly string[] | undefined;
  /** Inserts and deletes issued and not yet run. */
  private changing = 0;
  private pagesSinceChange = 0;

  /** All names in order, or undefined when they are not kept now. */
  get(): readonly string[] | undefined {
    return this.names;
  }

  /**
   * A page was read from SQL: whether to read all the names now, in the same step. Worth it once
   * pages enough have paid for it: a page from SQL counts every row, and reading every name costs a
   * few such counts.
   */
  shouldFill(total: number): boolean {
    if (this.changing > 0) return false;
    this.pagesSinceChange++;
    return this.pagesSinceChange >= Math.max(MIN_PAGES_BEFORE_FILL, Math.ceil(total / ROWS_PER_PAGE_OF_FILL));
  }

  fill(names: readonly string[]): void {
    if (this.changing === 0) this.names = Object.freeze(names);
  }

  /** An insert or delete of a workspace is being issued. */
  changeBegins(): void {
    this.changing++;
    this.drop();
  }

  /** That write has run (or failed): what was kept before it may be wrong either way. */
  changeEnds(): void {
    this.changing--;
    this.drop();
  }

  private drop(): void {
    this.names = undefined;
    this.pagesSinceChange = 0;
  }
}

/** Pages from SQL since the last change before the names are read: one per 2,500 workspaces, at least four. */
const MIN_PAGES_BEFORE_FILL = 4;
const ROWS_PER_PAGE_OF_FILL = 2_500;
