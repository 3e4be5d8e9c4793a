"""A loopback Hugging Face Hub for tests: the routes huggingface_hub uses to create a
repo, upload a folder (preupload + commit) and download a file (resolve), kept in memory.

Files are accepted as regular (base64) git blobs; LFS/Xet storage is the real
Hub's business and is disabled in the test processes (HF_HUB_DISABLE_XET=1).
``truncate_after`` makes downloads break mid-file to test failure handling.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeHub:
    def __init__(self):
        self.repos: dict[str, dict] = {}  # repo_id -> {"refs": {name: sha}, "commits": {sha: {path: bytes}}}
        self.truncate_after: int | None = None
        self.requests: list[tuple[str, str]] = []
        self.cards: list[dict] = []  # validated model-card metadata
        self.lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()

    # -- direct helpers for tests -------------------------------------------------
    def commit(self, repo_id: str, files: dict[str, bytes], ref: str = "main") -> str:
        with self.lock:
            repo = self.repos.setdefault(repo_id, {"refs": {}, "commits": {}})
            parent = repo["refs"].get(ref)
            tree = dict(repo["commits"].get(parent, {}))
            tree.update(files)
            digest = hashlib.sha1(
                (parent or "").encode() + b"".join(k.encode() + v for k, v in sorted(tree.items()))
            ).hexdigest()
            repo["commits"][digest] = tree
            repo["refs"][ref] = digest
            return digest

    def _resolve(self, repo_id: str, rev: str):
        repo = self.repos.get(repo_id)
        if repo is None:
            return None, None
        sha = repo["refs"].get(rev, rev if rev in repo["commits"] else None)
        return sha, (repo["commits"].get(sha) if sha else None)

    # -- HTTP --------------------------------------------------------------------
    def _handler(self):
        hub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _json(self, code, obj, extra=None):
                body = json.dumps(obj).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for k, v in (extra or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def _error(self, code, message, error_code=None):
                extra = {"X-Error-Message": message}
                if error_code:
                    extra["X-Error-Code"] = error_code
                self._json(code, {"error": message}, extra)

            def _body(self) -> bytes:
                n = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(n) if n else b""

            def do_POST(self):
                hub.requests.append(("POST", self.path))
                path = self.path.split("?")[0]
                if path == "/api/repos/create":
                    payload = json.loads(self._body())
                    repo_id = f"{payload['organization']}/{payload['name']}" if payload.get(
                        "organization") else payload["name"]
                    with hub.lock:
                        if repo_id in hub.repos:
                            return self._error(409, "You already created this model repo")
                        hub.repos[repo_id] = {"refs": {}, "commits": {}}
                    return self._json(200, {"url": f"{hub.endpoint}/{repo_id}"})
                if path == "/api/validate-yaml":
                    return self._validate_card(json.loads(self._body())["content"])
                m = re.match(r"^/api/models/([^/]+/[^/]+)/(preupload|commit)/(.+)$", path)
                if not m:
                    return self._error(404, f"no route {path}")
                repo_id, action, rev = m.groups()
                if repo_id not in hub.repos:
                    return self._error(404, "Repository not found", "RepoNotFound")
                body = self._body()
                if action == "preupload":
                    files = json.loads(body)["files"]
                    return self._json(200, {"files": [
                        {"path": f["path"], "uploadMode": "regular", "shouldIgnore": False, "oid": None}
                        for f in files
                    ]})
                files = {}
                for line in body.splitlines():
                    item = json.loads(line)
                    if item["key"] == "file":
                        files[item["value"]["path"]] = base64.b64decode(item["value"]["content"])
                    elif item["key"] != "header":
                        return self._error(400, f"unsupported commit operation {item['key']}")
                sha = hub.commit(repo_id, files, ref=rev)
                return self._json(200, {
                    "commitUrl": f"{hub.endpoint}/{repo_id}/commit/{sha}",
                    "commitOid": sha,
                    "pullRequestUrl": None,
                })

            def _validate_card(self, content: str):
                """Like the Hub: the model card's YAML header must parse; we also require
                the fields the zoo promises (licence, library)."""
                import yaml

                parts = content.split("---")
                meta = yaml.safe_load(parts[1]) if content.startswith("---") and len(parts) > 2 else None
                missing = [k for k in ("license", "library_name", "tags") if not (meta or {}).get(k)]
                if missing:
                    errors = [{"message": f"missing {k}"} for k in missing]
                    return self._json(400, {"errors": errors}, {"X-Error-Message": "invalid metadata"})
                hub.cards.append(meta)
                return self._json(200, {"warnings": []})

            def _serve_file(self, head: bool):
                hub.requests.append(("HEAD" if head else "GET", self.path))
                m = re.match(r"^/([^/]+/[^/]+)/resolve/([^/]+)/(.+)$", self.path.split("?")[0])
                if not m:
                    return self._error(404, "no route")
                repo_id, rev, filename = m.groups()
                if repo_id not in hub.repos:
                    return self._error(404, "Repository not found", "RepoNotFound")
                sha, tree = hub._resolve(repo_id, rev)
                if tree is None:
                    return self._error(404, "Invalid rev id", "RevisionNotFound")
                if filename not in tree:
                    return self._error(404, "Entry not found", "EntryNotFound")
                data = tree[filename]
                start = 0
                rng = self.headers.get("Range")
                if rng and (rm := re.match(r"bytes=(\d+)-", rng)):
                    start = int(rm.group(1))
                etag = hashlib.sha256(data).hexdigest()
                self.send_response(206 if start else 200)
                self.send_header("X-Repo-Commit", sha)
                self.send_header("ETag", f'"{etag}"')
                self.send_header("Content-Length", str(len(data) - start))
                self.end_headers()
                if head:
                    return
                payload = data[start:]
                if hub.truncate_after is not None:
                    self.wfile.write(payload[: hub.truncate_after])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(payload)

            def do_HEAD(self):
                self._serve_file(head=True)

            def do_GET(self):
                self._serve_file(head=False)

        return Handler
