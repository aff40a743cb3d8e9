import { describe, expect, it } from 'vitest';
import { cellState, fileTree, htmlFrameDoc, previewKind, shownOutputs } from './session-model';

const b64 = (s: string): string => btoa(s);

describe('session model', () => {
  it('shows the richest item of each bundle, images as data URLs', () => {
    const shown = shownOutputs({
      outputs: [
        { items: [{ mime: 'text/plain', data: b64('<Figure>') }, { mime: 'image/png', data: 'iVBORw0KGgo=' }] },
        { items: [{ mime: 'text/plain', data: b64('df') }, { mime: 'text/html', data: b64('<table></table>') }] },
        { items: [{ mime: 'text/plain', data: b64('42') }] },
      ],
    });
    expect(shown).toEqual([
      { mime: 'image/png', url: 'data:image/png;base64,iVBORw0KGgo=' },
      { mime: 'text/html', text: '<table></table>' },
      { mime: 'text/plain', text: '42' },
    ]);
  });

  it('always names a terminal state', () => {
    expect(cellState({ cell: { status: 'timeout' } })).toBe('timeout');
    expect(cellState(undefined)).toBe('failed');
    expect(cellState({ cell: { status: 'weird' } })).toBe('failed');
  });

  it('frames HTML with a CSP that blocks scripts and remote loads', () => {
    const doc = htmlFrameDoc('<img src="https://evil.example/x.png">');
    expect(doc).toContain("default-src 'none'");
    expect(doc).toContain('img-src data:');
    expect(doc).not.toContain('script-src');
  });

  it('lays files out as a tree and knows what it can preview', () => {
    const tree = fileTree([{ path: 'outputs/plot.png' }, { path: 'outputs', isDir: true }, { path: 'a.csv' }]);
    expect(tree.map((t) => [t.name, t.depth])).toEqual([['a.csv', 0], ['outputs', 0], ['plot.png', 1]]);
    expect(previewKind('outputs/plot.png')).toBe('image');
    expect(previewKind('data.csv')).toBe('text');
    expect(previewKind('model.bin')).toBeNull();
  });
});
