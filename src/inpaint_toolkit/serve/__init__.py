"""``inpaint-toolkit serve``: a local web page to paint the damage on a photo and see it
repaired, and the JSON API the page uses (see docs/serve.md).

- :mod:`.app`: the FastAPI application (:func:`create_app`) and its routes;
- :mod:`.guard`: Host and Origin checks, the body-size limit, security headers;
- :mod:`.decoding`: uploaded bytes to checked photos and masks, PNG out;
- :mod:`.faces` and :mod:`.presets`: the faces found, and masks drawn on them;
- :mod:`.repairing` and :mod:`.jobs`: the repair, run one at a time in a thread;
- :mod:`.settings`, :mod:`.schemas`, :mod:`.store`: settings and limits, the API's
  JSON, the in-memory stores;
- ``static/``: the page (plain HTML, CSS and JavaScript; no build step, no CDN).
"""
