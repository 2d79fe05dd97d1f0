// Stands in for jQuery, which was 12% of the bundle (89.8 of 721.7 kB minified, esbuild's metafile) and
// runs on every page view. Nothing here uses it but to wrap an element: ipywidgets 8 and Backbone
// do `$(el)` and `$el[0]` (ipywidgets' NativeView delegates events itself), anywidget `$el.empty()`.
class Wrapped {
  constructor(element) {
    this[0] = element;
    this.length = element ? 1 : 0;
  }

  empty() {
    if (this[0]) this[0].replaceChildren();
    return this;
  }
}

export default function $(element) {
  return element instanceof Wrapped ? element : new Wrapped(element);
}
$.prototype = Wrapped.prototype; // `el instanceof $` (widget.js) holds for a wrapped element
