"""Flask 3 in its default settings (case-sensitive, strict slashes, merged slashes), served by
werkzeug's development server on 127.0.0.1, port 0. Each area has a rule and a `<path:rest>`
rule for every method, `/` and `/<path:rest>` are the catch-all, and a before_request hook is
the virtual host. The first stdout line is `{"port": N}`; the app exits when its stdin closes.
Every handler answers 200 with `x-handler` and `x-seen-path` (the path Flask routed on,
URI-component encoded)."""
import json
import logging
import os
import sys
import threading
from urllib.parse import quote

from flask import Flask, make_response, request
from werkzeug.serving import make_server

ADMIN_HOST = "admin.example.test"
HOST_HANDLER = "host-admin"
AREAS = [("admin", "/admin"), ("reports", "/reports"), ("internal", "/api/internal"), ("public", "/public")]
METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]

app = Flask(__name__)


def reply(handler):
    response = make_response(handler)
    response.headers["x-handler"] = handler
    response.headers["x-seen-path"] = quote(request.path, safe="", errors="surrogateescape")
    response.mimetype = "text/plain"
    return response


@app.before_request
def virtual_host():
    host = request.headers.get("Host", "").lower().rsplit(":", 1)
    name = host[0] if len(host) == 2 and host[1].isdigit() else ":".join(host)
    if name.removesuffix(".") == ADMIN_HOST:
        return reply(HOST_HANDLER)
    return None


def view_for(handler):
    def view(rest=""):
        return reply(handler)

    return view


for handler, prefix in AREAS + [("catchall", "")]:
    app.add_url_rule(prefix or "/", f"{handler}", view_for(handler), methods=METHODS)
    app.add_url_rule(f"{prefix}/<path:rest>", f"{handler}_rest", view_for(handler), methods=METHODS)

if __name__ == "__main__":
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    print(json.dumps({"port": server.server_port}), flush=True)
    # The app lives as long as the suite holds its stdin open.
    threading.Thread(target=lambda: (sys.stdin.read(), os._exit(0)), daemon=True).start()
    server.serve_forever()
