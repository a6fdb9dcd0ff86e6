"""A box of HTML that keeps its highlighted row in view (the history under a cursor).

A history has forty rows and the cursor moves through them; a table in a fixed-height box
hides the row being talked about, and HTML cannot scroll a box to a row by itself. This
widget (an ``anywidget``: a few lines of JavaScript, the ecosystem's way to write one)
shows its ``value`` in a box ``height`` tall and, on every change, scrolls the box (only
the box, never the page) so the first element matching ``target`` sits in the middle.
"""

from __future__ import annotations

import anywidget
import traitlets

_ESM = """
function render({ model, el }) {
  const box = document.createElement("div");
  box.className = "durasim-scroll";
  box.style.overflowY = "auto";
  box.style.width = "100%";
  el.appendChild(box);
  const show = () => {
    box.style.maxHeight = model.get("height");
    box.innerHTML = model.get("value");
    const row = box.querySelector(model.get("target"));
    if (row) {
      const r = row.getBoundingClientRect(), b = box.getBoundingClientRect();
      box.scrollTop += (r.top - b.top) - (b.height - r.height) / 2;
    }
  };
  model.on("change:value", show);
  model.on("change:height", show);
  show();
}
export default { render };
"""


class ScrolledHTML(anywidget.AnyWidget):
    """HTML in a scrolling box that keeps the element matching ``target`` in view.

    Attributes:
        value: the HTML shown.
        height: the box's maximum height (CSS, e.g. "320px").
        target: a CSS selector; the first match is scrolled to the box's middle.
    """

    _esm = _ESM
    value = traitlets.Unicode("").tag(sync=True)
    height = traitlets.Unicode("320px").tag(sync=True)
    target = traitlets.Unicode(".durasim-highlight").tag(sync=True)
