"""The local explorer behind ``w2v serve VECTORS [VECTORS_B]``: one web page to search a
model's vocabulary, ask for neighbours, similarities and analogies, look at a 2-D map of the
words, read a run's loss, settings and scores, and compare two models side by side.

    limits.py   what a request may ask (k, N, text lengths) and the server's defaults
    models.py   one loaded model and the answers the page asks of it (no web framework)
    maps.py     the 2-D maps: PCA at once, t-SNE computed once and cached
    runinfo.py  what a run directory tells about its training (settings, loss, scores)
    app.py      the Starlette app: routes, parameters, JSON answers and errors
    server.py   the socket and uvicorn, and the check for the ``serve`` extra
    static/     the page: plain HTML, CSS and JavaScript, no build step, nothing from a CDN

Importing this package is light: starlette and uvicorn are imported by app.py and
server.py's ``run`` only, so the command can say how to install them when they are missing.
"""
