"""Rich outputs for Loom: display(obj) as a MIME bundle (text/plain, image/png, image/svg+xml,
text/html, application/json), in the order produced.

In a session the kernel provides display() as a builtin and shows figures itself. In a run:

    from loom_display import display      # also makes plt.show() show figures as PNG outputs
    display(df)

Outside a session the bundles are appended to the run's LOOM_TRACE_FILE as {"loom_display": ...}
lines, which Loom takes out of the trace into ExecuteResponse.outputs. Importing this module
before matplotlib selects its backend (module://loom_display, drawing with Agg).
"""

import base64
import json
import os
import sys


def _b64(data):
    return base64.b64encode(data).decode("ascii")


def mime_bundle(obj):
    """The MIME bundle of an object: text/plain always, and richer types where known."""
    bundle = {}
    mod = type(obj).__module__ or ""
    if mod.startswith("matplotlib") and hasattr(obj, "savefig"):
        import io
        buf = io.BytesIO()
        obj.savefig(buf, format="png", bbox_inches="tight")
        bundle["image/png"] = _b64(buf.getvalue())
    if mod.startswith("pandas") and hasattr(obj, "to_html") and hasattr(obj, "to_json"):
        bundle["text/html"] = obj.to_html(max_rows=60, max_cols=20)
        try:
            bundle["application/json"] = obj.to_json(orient="table", default_handler=str)
        except Exception:
            pass
    mimebundle = getattr(obj, "_repr_mimebundle_", None)
    if callable(mimebundle):
        try:
            got = mimebundle()
            data = got[0] if isinstance(got, tuple) else got
            for mime, value in (data or {}).items():
                bundle.setdefault(mime, _as_text(mime, value))
        except Exception:
            pass
    for mime, method in (("image/png", "_repr_png_"), ("image/svg+xml", "_repr_svg_"),
                         ("text/html", "_repr_html_"), ("application/json", "_repr_json_")):
        fn = getattr(obj, method, None)
        if mime not in bundle and callable(fn) and not isinstance(obj, type):
            try:
                value = fn()
            except Exception:
                value = None
            if value is not None:
                bundle[mime] = _as_text(mime, value)
    if isinstance(obj, (bytes, bytearray)) and bytes(obj[:8]) == b"\x89PNG\r\n\x1a\n":
        bundle["image/png"] = _b64(bytes(obj))
    bundle["text/plain"] = repr(obj)
    return bundle


def _as_text(mime, value):
    if isinstance(value, (bytes, bytearray)):
        return _b64(bytes(value)) if mime.startswith("image/") and mime != "image/svg+xml" \
            else bytes(value).decode("utf-8", "replace")
    if mime == "application/json" and not isinstance(value, str):
        return json.dumps(value, default=str)
    return str(value)


def _emit(bundle):
    path = os.environ.get("LOOM_TRACE_FILE", "")
    if not path:
        return
    line = (json.dumps({"loom_display": bundle}, separators=(",", ":")) + "\n").encode("utf-8")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)
    except OSError:
        pass


# Set by a session's kernel, which shows outputs itself (in order with the cell's prints).
_sink = getattr(sys.modules.get(__name__), "_sink", None)


def display(*objs):
    """Shows objects as rich outputs of this run (see the module's doc)."""
    if _sink is not None:
        _sink(*objs)
        return
    for obj in objs:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass
        _emit(mime_bundle(obj))


def show(*_args, **_kwargs):
    """The matplotlib backend's show(): every open figure as a PNG output, then closed."""
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is None:
        return
    for num in list(plt.get_fignums()):
        fig = plt.figure(num)
        display(fig)
        plt.close(fig)


# As a matplotlib backend (module://loom_display): Agg's canvas, our show().
if "matplotlib" not in sys.modules and not os.environ.get("MPLBACKEND"):
    os.environ["MPLBACKEND"] = "module://loom_display"


def __getattr__(name):
    # The canvas is looked up only by matplotlib, after it is imported: no import cost otherwise.
    if name == "FigureCanvas":
        import importlib
        canvas = importlib.import_module("matplotlib.backends.backend_agg").FigureCanvasAgg
        # Kept as a global: matplotlib reads the backend's names through vars() too.
        globals()["FigureCanvas"] = canvas
        return canvas
    raise AttributeError(name)
