"""A loopback fake of GitHub's REST API (and builders of its webhook deliveries).

From GitHub's REST reference (docs.github.com/en/rest, API version 2022-11-28) and
"Best practices for using the REST API" / "Rate limits for the REST API":

- ``GET /repos/{o}/{r}/issues?state=all&sort=updated&direction=asc&since=ISO&per_page&page``:
  issues *and* pull requests (a pull request has a ``pull_request`` object), each
  ``{id, node_id, url, repository_url, html_url, number, state, title, body, user:
  {login, id, type}, labels, comments, created_at, updated_at, closed_at,
  author_association}``; ``since`` keeps those updated at or after it.
- ``GET /repos/{o}/{r}/issues/comments?sort=updated&direction=asc&since&per_page&page``:
  ``{id, node_id, url, html_url, body, user, created_at, updated_at, issue_url,
  author_association}``; ``html_url`` says ``/pull/N#issuecomment-ID`` on a pull request.
- ``GET /repos/{o}/{r}/pulls/comments?...`` (same parameters): ``{id,
  pull_request_review_id, diff_hunk, path, line, original_line, side, commit_id, user,
  body, created_at, updated_at, html_url, pull_request_url, author_association}``.
- ``GET /repos/{o}/{r}/pulls/{n}/reviews``: ``{id, user, body, state`` (``APPROVED``,
  ``CHANGES_REQUESTED``, ``COMMENTED``, ``DISMISSED``, ``PENDING``)``, html_url,
  pull_request_url, submitted_at, commit_id, author_association}``, oldest first.
- ``GET /repos/{o}/{r}/issues/{n}``: one issue or pull request.
- ``GET /repos/{o}/{r}/contents/{path}`` with ``Accept: application/vnd.github.raw``:
  the file's bytes; 404 ``{"message": "Not Found"}`` when there is none.
- Pagination: ``per_page`` (default 30, at most 100) and ``page``; ``Link`` carries
  ``rel="next"`` (and ``last``) while there are more.
- Every answer has an ``ETag``; a request with a matching ``If-None-Match`` gets 304 with
  no body, which does not count against the quota.
- ``X-RateLimit-Limit``, ``-Remaining``, ``-Used``, ``-Reset`` (epoch seconds) and
  ``-Resource: core`` on every answer; at 0 remaining a request gets 403 ``{"message":
  "API rate limit exceeded ..."}``. A secondary limit (``fail_next(kind="secondary")``)
  is a 403 with ``Retry-After`` and "You have exceeded a secondary rate limit".
- With ``token`` set, a request without ``Authorization: Bearer <token>`` gets 401
  ``{"message": "Bad credentials"}``. Unknown repositories: 404.

Webhook deliveries (docs.github.com/en/webhooks, "Webhook events and payloads"):
:meth:`FakeGitHub.delivery` builds the headers (``X-GitHub-Event``,
``X-GitHub-Delivery``, ``X-Hub-Signature-256: sha256=<HMAC-SHA256 hex of the body>``,
``User-Agent: GitHub-Hookshot/...``) and the JSON body of ``issues``, ``issue_comment``,
``pull_request``, ``pull_request_review`` (its ``state`` lowercase, as webhooks send it)
and ``pull_request_review_comment``, with ``action``, ``repository.full_name`` and ``sender``.

Other misbehaviour and the request log: :class:`tests.fakes.faults.Faults`.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.faults import Faults
from tests.fakes.server import LoopbackHTTP

JsonObject = dict[str, Any]


@dataclass
class _Repo:
    issues: dict[int, JsonObject] = field(default_factory=dict)
    comments: list[JsonObject] = field(default_factory=list)
    review_comments: list[JsonObject] = field(default_factory=list)
    reviews: dict[int, list[JsonObject]] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)


class FakeGitHub(LoopbackHTTP):
    def __init__(self, *, token: str | None = None, quota: int = 5000) -> None:
        super().__init__()
        self.faults = Faults()
        self.token = token
        self.quota = quota
        self.remaining = quota
        self.reset_at = int(time.time()) + 3600
        self._repos: dict[str, _Repo] = {}
        self._ids = itertools.count(1_000_001)

    @property
    def requests(self) -> list[str]:
        return self.faults.paths()

    # -- seeding -------------------------------------------------------------------

    def repo(self, full_name: str) -> _Repo:
        return self._repos.setdefault(full_name, _Repo())

    def add_issue(
        self,
        repo: str,
        number: int,
        title: str,
        login: str,
        body: str,
        at: str,
        *,
        pull: bool = False,
    ) -> JsonObject:
        kind = "pull" if pull else "issues"
        issue: JsonObject = {
            "id": next(self._ids),
            "node_id": "I_kwDO" + uuid.uuid4().hex[:12],
            "url": f"https://api.github.com/repos/{repo}/issues/{number}",
            "repository_url": f"https://api.github.com/repos/{repo}",
            "html_url": f"https://github.com/{repo}/{kind}/{number}",
            "number": number,
            "state": "open",
            "title": title,
            "body": body,
            "user": _user(login),
            "labels": [],
            "comments": 0,
            "created_at": at,
            "updated_at": at,
            "closed_at": None,
            "author_association": "MEMBER",
        }
        if pull:
            issue["pull_request"] = {
                "url": f"https://api.github.com/repos/{repo}/pulls/{number}",
                "html_url": f"https://github.com/{repo}/pull/{number}",
                "diff_url": f"https://github.com/{repo}/pull/{number}.diff",
                "patch_url": f"https://github.com/{repo}/pull/{number}.patch",
                "merged_at": None,
            }
            self.repo(repo).reviews.setdefault(number, [])
        self.repo(repo).issues[number] = issue
        return issue

    def add_comment(self, repo: str, number: int, login: str, body: str, at: str) -> JsonObject:
        issue = self.repo(repo).issues[number]
        comment_id = next(self._ids)
        comment = {
            "id": comment_id,
            "node_id": "IC_kwDO" + uuid.uuid4().hex[:12],
            "url": f"https://api.github.com/repos/{repo}/issues/comments/{comment_id}",
            "html_url": f"{issue['html_url']}#issuecomment-{comment_id}",
            "body": body,
            "user": _user(login),
            "created_at": at,
            "updated_at": at,
            "issue_url": issue["url"],
            "author_association": "CONTRIBUTOR",
        }
        self.repo(repo).comments.append(comment)
        self._touch(issue, at)
        return comment

    def add_review(
        self, repo: str, number: int, login: str, body: str, at: str, state: str = "APPROVED"
    ) -> JsonObject:
        issue = self.repo(repo).issues[number]
        review_id = next(self._ids)
        review = {
            "id": review_id,
            "node_id": "PRR_kwDO" + uuid.uuid4().hex[:12],
            "user": _user(login),
            "body": body,
            "state": state,
            "html_url": f"{issue['html_url']}#pullrequestreview-{review_id}",
            "pull_request_url": f"https://api.github.com/repos/{repo}/pulls/{number}",
            "submitted_at": at,
            "commit_id": "0" * 40,
            "author_association": "MEMBER",
        }
        self.repo(repo).reviews[number].append(review)
        self._touch(issue, at)
        return review

    def add_review_comment(
        self, repo: str, number: int, login: str, body: str, at: str, path: str = "src/a.py"
    ) -> JsonObject:
        issue = self.repo(repo).issues[number]
        comment_id = next(self._ids)
        comment = {
            "id": comment_id,
            "pull_request_review_id": next(self._ids),
            "diff_hunk": "@@ -1,3 +1,4 @@",
            "path": path,
            "line": 3,
            "original_line": 3,
            "side": "RIGHT",
            "commit_id": "0" * 40,
            "user": _user(login),
            "body": body,
            "created_at": at,
            "updated_at": at,
            "html_url": f"{issue['html_url']}#discussion_r{comment_id}",
            "pull_request_url": f"https://api.github.com/repos/{repo}/pulls/{number}",
            "author_association": "MEMBER",
        }
        self.repo(repo).review_comments.append(comment)
        self._touch(issue, at)
        return comment

    def _touch(self, issue: JsonObject, at: str) -> None:
        issue["updated_at"] = max(issue["updated_at"], at)
        issue["comments"] += 1

    # -- webhook deliveries --------------------------------------------------------

    def delivery(
        self,
        event: str,
        repo: str,
        number: int,
        secret: bytes,
        *,
        item: JsonObject | None = None,
        action: str | None = None,
        delivery_id: str | None = None,
    ) -> tuple[dict[str, str], bytes]:
        """The headers and body GitHub would POST for ``event`` about issue ``number``."""
        issue = self.repo(repo).issues[number]
        payload: JsonObject = {
            "repository": {"id": 1, "name": repo.split("/")[1], "full_name": repo},
            "sender": (item or issue)["user"],
        }
        if event == "issues":
            payload |= {"action": action or "opened", "issue": issue}
        elif event == "issue_comment":
            payload |= {"action": action or "created", "issue": issue, "comment": item}
        else:
            pull = {**issue, "head": {"ref": "feature"}, "base": {"ref": "main"}}
            pull.pop("pull_request", None)
            pull["html_url"] = f"https://github.com/{repo}/pull/{number}"
            payload |= {"pull_request": pull, "number": number}
            if event == "pull_request":
                payload["action"] = action or "opened"
            elif event == "pull_request_review":
                review = {**(item or {}), "state": str((item or {}).get("state", "")).lower()}
                payload |= {"action": action or "submitted", "review": review}
            else:
                payload |= {"action": action or "created", "comment": item}
        body = json.dumps(payload).encode()
        signature = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
        headers = {
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": delivery_id or str(uuid.uuid4()),
            "X-GitHub-Hook-ID": "42",
            "X-Hub-Signature-256": signature,
            "User-Agent": "GitHub-Hookshot/abc1234",
            "Content-Type": "application/json",
        }
        return headers, body

    # -- the API -------------------------------------------------------------------

    def _application(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/repos/{owner}/{name}/issues", self._issues)
        app.router.add_get("/repos/{owner}/{name}/issues/comments", self._comments)
        app.router.add_get("/repos/{owner}/{name}/issues/{number:\\d+}", self._issue)
        app.router.add_get("/repos/{owner}/{name}/pulls/comments", self._review_comments)
        app.router.add_get("/repos/{owner}/{name}/pulls/{number:\\d+}/reviews", self._reviews)
        app.router.add_get("/repos/{owner}/{name}/contents/{path:.+}", self._contents)
        return app

    async def _serve(self, request: web.Request, answer: Any) -> web.StreamResponse:
        async with self._busy():
            return await self.faults.serve(request, lambda r: self._guarded(r, answer))

    async def _guarded(self, request: web.Request, answer: Any) -> web.StreamResponse:
        if self.token and request.headers.get("Authorization") != f"Bearer {self.token}":
            return self._json({"message": "Bad credentials"}, status=401)
        if self.remaining <= 0:
            exceeded = {"message": "API rate limit exceeded for user ID 1."}
            return self._json(exceeded, status=403, headers=self._limits())
        repo = f"{request.match_info['owner']}/{request.match_info['name']}"
        if repo not in self._repos:
            return self._json({"message": "Not Found"}, status=404)
        response: web.Response = answer(request, self._repos[repo])
        etag = response.headers.get("ETag")
        if etag and request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers=self._limits() | {"ETag": etag})
        self.remaining -= 1
        response.headers.update(self._limits())
        return response

    def _limits(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.quota),
            "X-RateLimit-Remaining": str(max(0, self.remaining)),
            "X-RateLimit-Used": str(self.quota - max(0, self.remaining)),
            "X-RateLimit-Reset": str(self.reset_at),
            "X-RateLimit-Resource": "core",
        }

    def _json(self, body: Any, status: int = 200, headers: dict[str, str] | None = None):
        text = json.dumps(body)
        etag = '"' + hashlib.sha256(text.encode()).hexdigest()[:40] + '"'
        return web.Response(
            text=text,
            status=status,
            content_type="application/json",
            headers={**(headers or {}), **({"ETag": etag} if status == 200 else {})},
        )

    def _page(self, request: web.Request, items: list[JsonObject]) -> web.Response:
        per_page = min(100, int(request.query.get("per_page", "30")))
        page = int(request.query.get("page", "1"))
        chosen = items[(page - 1) * per_page : page * per_page]
        last = max(1, -(-len(items) // per_page))
        headers = {}
        if page < last:
            base = request.url.with_query({**request.query, "page": str(page + 1)})
            final = request.url.with_query({**request.query, "page": str(last)})
            headers["Link"] = f'<{base}>; rel="next", <{final}>; rel="last"'
        return self._json(chosen, headers=headers)

    def _updated(self, request: web.Request, items: list[JsonObject]) -> list[JsonObject]:
        since = request.query.get("since")
        chosen = [i for i in items if since is None or i["updated_at"] >= since]
        if request.query.get("sort") == "updated":
            chosen.sort(
                key=lambda i: i["updated_at"], reverse=request.query.get("direction") == "desc"
            )
        return chosen

    async def _issues(self, request: web.Request) -> web.StreamResponse:
        return await self._serve(
            request, lambda r, repo: self._page(r, self._updated(r, list(repo.issues.values())))
        )

    async def _comments(self, request: web.Request) -> web.StreamResponse:
        return await self._serve(
            request, lambda r, repo: self._page(r, self._updated(r, repo.comments))
        )

    async def _review_comments(self, request: web.Request) -> web.StreamResponse:
        return await self._serve(
            request, lambda r, repo: self._page(r, self._updated(r, repo.review_comments))
        )

    async def _reviews(self, request: web.Request) -> web.StreamResponse:
        def answer(r: web.Request, repo: _Repo) -> web.Response:
            number = int(r.match_info["number"])
            if number not in repo.reviews:
                return self._json({"message": "Not Found"}, status=404)
            return self._page(r, repo.reviews[number])

        return await self._serve(request, answer)

    async def _issue(self, request: web.Request) -> web.StreamResponse:
        def answer(r: web.Request, repo: _Repo) -> web.Response:
            issue = repo.issues.get(int(r.match_info["number"]))
            return self._json(issue) if issue else self._json({"message": "Not Found"}, 404)

        return await self._serve(request, answer)

    async def _contents(self, request: web.Request) -> web.StreamResponse:
        def answer(r: web.Request, repo: _Repo) -> web.Response:
            text = repo.files.get(r.match_info["path"])
            if text is None:
                return self._json({"message": "Not Found"}, status=404)
            etag = '"' + hashlib.sha256(text.encode()).hexdigest()[:40] + '"'
            return web.Response(
                text=text, content_type="application/vnd.github.raw", headers={"ETag": etag}
            )

        return await self._serve(request, answer)


def _user(login: str) -> JsonObject:
    return {"login": login, "id": abs(hash(login)) % 10**8, "type": "User"}
