// A session's files: a tree, upload by drag and drop or picker, download, preview of images
// and text, delete.
import { useCallback, useEffect, useState } from 'react';
import type { FileEntryJson } from '../../../../shared/gen/loom/v1/docker_pb';
import { errorText, notify } from '../../store/app-store';
import { getClient } from '../../store/client';
import { Icon } from '../ui/Icon';
import { downloadSessionFile, uploadFile } from './files';
import { fileTree, imageMime, previewKind } from './session-model';

interface Preview {
  path: string;
  image?: string;
  text?: string;
}

export function FilesPanel({ sessionId, version }: { sessionId: string; version: number }) {
  const [entries, setEntries] = useState<FileEntryJson[] | null>(null);
  const [preview, setPreview] = useState<Preview | null>(null);
  const [dragging, setDragging] = useState(false);

  const refresh = useCallback(() => {
    getClient()
      .listSessionFiles(sessionId, '')
      .then(setEntries, (err: unknown) => notify(errorText(err), 'error'));
  }, [sessionId]);
  useEffect(refresh, [refresh, version]);

  const upload = async (files: FileList | null): Promise<void> => {
    for (const file of Array.from(files ?? [])) {
      try {
        await uploadFile(sessionId, file);
      } catch (err) {
        notify(errorText(err), 'error');
      }
    }
    refresh();
  };

  const show = async (path: string): Promise<void> => {
    const kind = previewKind(path);
    if (!kind) return;
    try {
      const { data } = await getClient().readSessionFile(sessionId, path);
      const text = kind === 'text' ? new TextDecoder().decode(Uint8Array.from(atob(data), (c) => c.charCodeAt(0))).slice(0, 20_000) : undefined;
      setPreview({ path, image: kind === 'image' ? `data:${imageMime(path)};base64,${data}` : undefined, text });
    } catch (err) {
      notify(errorText(err), 'error');
    }
  };

  const remove = async (path: string): Promise<void> => {
    try {
      await getClient().deleteSessionFile(sessionId, path);
      if (preview?.path === path) setPreview(null);
    } catch (err) {
      notify(errorText(err), 'error');
    }
    refresh();
  };

  return (
    <aside
      className={`files-panel${dragging ? ' files-dragging' : ''}`}
      aria-label="Session files"
      data-testid="files-panel"
      onDragOver={(e) => {
        e.preventDefault();
        setDragging(true);
      }}
      onDragLeave={() => setDragging(false)}
      onDrop={(e) => {
        e.preventDefault();
        setDragging(false);
        void upload(e.dataTransfer.files);
      }}
    >
      <div className="files-toolbar">
        <strong>Files</strong>
        <span className="faint">/tmp</span>
        <div className="topbar-spacer" />
        <label className="btn" title="Upload files (or drop them here)">
          <Icon name="plus" size={13} />
          Upload
          <input type="file" multiple hidden data-testid="file-upload" onChange={(e) => void upload(e.target.files).then(() => (e.target.value = ''))} />
        </label>
        <button className="btn" type="button" onClick={refresh} title="Refresh" aria-label="Refresh files">
          <Icon name="refresh" size={13} />
        </button>
      </div>
      {entries === null ? <div className="faint files-empty">Loading…</div> : null}
      {entries?.length === 0 ? <div className="faint files-empty">No files yet: drop some here.</div> : null}
      <ul className="files-tree">
        {fileTree(entries ?? []).map(({ entry, depth, name }) => (
          <li key={entry.path} className="file-row" style={{ paddingLeft: 8 + depth * 14 }} data-testid="file-row" data-path={entry.path}>
            {entry.isDir ? (
              <span className="file-name file-dir">{name}/</span>
            ) : (
              <button className="file-name link" type="button" onClick={() => void show(entry.path ?? '')} disabled={!previewKind(entry.path ?? '')} title="Preview">
                {name}
              </button>
            )}
            {entry.isDir ? null : <span className="faint num file-size">{entry.size}</span>}
            {entry.isDir ? null : (
              <button className="btn btn-icon" type="button" aria-label={`Download ${entry.path}`} onClick={() => void downloadSessionFile(sessionId, entry.path ?? '').catch((err: unknown) => notify(errorText(err), 'error'))} data-testid="file-download">
                <Icon name="expand" size={12} />
              </button>
            )}
            <button className="btn btn-icon" type="button" aria-label={`Delete ${entry.path}`} onClick={() => void remove(entry.path ?? '')} data-testid="file-delete">
              <Icon name="trash" size={12} />
            </button>
          </li>
        ))}
      </ul>
      {preview ? (
        <div className="file-preview" data-testid="file-preview">
          <div className="files-toolbar">
            <code>{preview.path}</code>
            <div className="topbar-spacer" />
            <button className="btn btn-icon" type="button" aria-label="Close preview" onClick={() => setPreview(null)}>
              <Icon name="x" size={12} />
            </button>
          </div>
          {preview.image ? <img src={preview.image} alt={preview.path} /> : <pre className="cell-text">{preview.text}</pre>}
        </div>
      ) : null}
    </aside>
  );
}
