/**
 * The syntax tree of a UCI file as OpenWrt's libuci reads it
 * (`package`, `config TYPE [NAME]`, `option NAME VALUE`, `list NAME VALUE`).
 * Positions are 1-based; columns count characters (UTF-16 units) from the line start.
 */
export interface UciPos {
  readonly line: number;
  readonly column: number;
}

/** One `option` or `list` statement. A list with n values is n statements. */
export interface UciStatement {
  readonly kind: 'option' | 'list';
  readonly name: string;
  readonly value: string;
  readonly pos: UciPos;
}

export interface UciSection {
  readonly type: string;
  /** `null` for an anonymous section (`config subscriber`). */
  readonly name: string | null;
  readonly pos: UciPos;
  readonly statements: UciStatement[];
}

export interface UciDocument {
  readonly package: string | null;
  readonly sections: UciSection[];
}

export interface UciSyntaxError {
  readonly pos: UciPos;
  readonly message: string;
}
