// The program's output as a virtualized list of lines: only the rows in view exist in the
// DOM, and a chunk that arrives touches one line, so megabytes of output scroll as smoothly as
// ten lines. It follows the end while the user is at the bottom and stops following as soon as
// they scroll up (a "Jump to latest" button brings them back).
import { memo, useEffect, useLayoutEffect, useRef, useState } from 'react';
import { useVirtualizer } from '@tanstack/react-virtual';
import type { OutputBuffer, OutputLine } from '../../lib/output-buffer';
import { formatBytes } from '../../lib/format';
import { useFrameVersion } from '../../hooks/useFrameVersion';
import { Icon } from '../ui/Icon';

const LINE_HEIGHT = 19;
/** While output keeps coming, the pane is redrawn at most this often (see useFrameVersion). */
export const OUTPUT_REDRAW_MS = 100;

interface Props {
  buffer: OutputBuffer;
  wrap: boolean;
}

// memo: the pane around it redraws on its own cadence, with the same buffer.
export const OutputView = memo(function OutputView({ buffer, wrap }: Props) {
  const version = useFrameVersion(buffer, OUTPUT_REDRAW_MS);
  const scrollRef = useRef<HTMLDivElement>(null);
  const following = useRef(true);
  const [showJump, setShowJump] = useState(false);
  const count = buffer.isEmpty ? 0 : buffer.lineCount;

  const virtualizer = useVirtualizer({
    count,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => LINE_HEIGHT,
    overscan: 10,
    useFlushSync: false,
    // Rows render the kept lines; their index shifts when old lines are dropped, so the key is
    // the line's absolute number rather than its position.
    getItemKey: (index) => buffer.droppedLines + index,
  });

  // Row heights change when wrapping is toggled or the width changes: measure again.
  useEffect(() => {
    virtualizer.measure();
  }, [wrap, virtualizer]);

  useLayoutEffect(() => {
    const el = scrollRef.current;
    if (el && following.current) el.scrollTop = el.scrollHeight;
  }, [version, count]);

  // A new buffer (another run) starts at the end again.
  useEffect(() => {
    following.current = true;
    setShowJump(false);
  }, [buffer]);

  const onScroll = (): void => {
    const el = scrollRef.current;
    if (!el) return;
    const atBottom = el.scrollHeight - el.scrollTop - el.clientHeight < LINE_HEIGHT;
    following.current = atBottom;
    setShowJump(!atBottom);
  };

  const jump = (): void => {
    following.current = true;
    setShowJump(false);
    const el = scrollRef.current;
    if (el) el.scrollTop = el.scrollHeight;
  };

  return (
    <div className="output-view-wrap">
      {buffer.droppedChars > 0 ? (
        <div className="output-trimmed" role="note">
          Earlier output not shown: {formatBytes(buffer.droppedChars)} in {buffer.droppedLines.toLocaleString()} lines were dropped to keep the
          window responsive. The response keeps the first 4 MB of each stream.
        </div>
      ) : null}
      <div
        ref={scrollRef}
        className={`output-view${wrap ? ' wrap' : ''}`}
        onScroll={onScroll}
        tabIndex={0}
        role="log"
        aria-label="Program output"
        aria-live="off"
        data-testid="output-lines"
      >
        <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
          {virtualizer.getVirtualItems().map((item) => {
            const line = buffer.line(item.index);
            return (
              <div
                key={item.key}
                ref={wrap ? virtualizer.measureElement : undefined}
                data-index={item.index}
                className="output-line"
                style={{ transform: `translateY(${item.start}px)`, height: wrap ? undefined : LINE_HEIGHT }}
              >
                {line ? <LineContent line={line} /> : null}
              </div>
            );
          })}
        </div>
      </div>
      {showJump ? (
        <button type="button" className="btn btn-sm jump-latest" onClick={jump}>
          <Icon name="arrowDown" size={13} />
          Jump to latest
        </button>
      ) : null}
    </div>
  );
});

function LineContent({ line }: { line: OutputLine }) {
  if (line.fragments.length === 0) return <>{'\u200b'}</>;
  return (
    <>
      {line.fragments.map((f, i) => (
        <span key={i} className={f.stream} data-testid={`${f.stream}-segment`}>
          {f.text}
        </span>
      ))}
    </>
  );
}
