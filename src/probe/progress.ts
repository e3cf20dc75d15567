/**
 * What the probe is doing while it runs (a full probe takes minutes: the keep-alive wait and
 * the slow clients are long by design). On a terminal, one line rewritten in place; otherwise
 * (a pipe, a CI log) plain lines, one per step, never a carriage return.
 */

export interface Progress {
  /** A new step, or an update of the current one (`bad requests 40/140`). */
  update(text: string): void;
  /** Clears the terminal line before the report is printed. */
  done(): void;
}

export function progressWriter(out: {
  readonly isTTY?: boolean;
  write(text: string): unknown;
}): Progress {
  const tty = out.isTTY === true;
  let last = '';
  return {
    update(text) {
      if (text === last) return;
      last = text;
      // \x1b[2K clears the line: a shorter text must not leave the end of a longer one.
      out.write(tty ? `\r\x1b[2Kh13 probe: ${text}` : `h13 probe: ${text}\n`);
    },
    done() {
      if (tty && last !== '') out.write('\r\x1b[2K');
      last = '';
    },
  };
}
