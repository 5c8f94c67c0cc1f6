#!/usr/bin/env python3
"""An agent loop over nemori's REST API, with the standard library only (urllib, json).

Each turn the agent recalls what it knows about the user's message (POST .../search),
answers, and stores both sides of the turn (POST .../messages). At the end it builds the
pending messages into episodes (POST .../flush) and asks about an earlier turn.

    nemori serve --storage duckdb:///./memory.duckdb &   # with NEMORI_API_KEYS=KEY=SCOPE
    NEMORI_API_KEY=KEY python3 examples/python/agent_loop.py --url http://127.0.0.1:8080

A real agent would pass the recalled episodes to its language model; this one prints them.
"""

import argparse
import datetime
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request


class MemoryClient:
    """A small client of nemori's REST API (docs/api.md) for one owner."""

    def __init__(self, base_url, key, owner):
        self.base_url = base_url.rstrip("/")
        self.key = key
        self.owner_path = "/v1/owners/" + urllib.parse.quote(owner, safe="")

    def _call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if self.key:
            request.add_header("Authorization", "Bearer " + self.key)
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return json.loads(answer.read().decode("utf-8"))
        except urllib.error.HTTPError as error:
            # Every error answer is {"error": {"code", "message", "field"}}.
            detail = json.loads(error.read().decode("utf-8")).get("error", {})
            raise RuntimeError(f"{method} {path}: {error.code} {detail.get('message')}") from None

    def add(self, messages):
        """Stores messages ({"speaker_id", "content", "timestamp"}); returns their ids."""
        return self._call("POST", self.owner_path + "/messages", {"messages": messages})

    def flush(self):
        """Builds every pending message into episodes now."""
        return self._call("POST", self.owner_path + "/flush", {})

    def search(self, query, top_k=3, word_budget=200):
        """The episodes most relevant to `query`, best first."""
        answer = self._call("POST", self.owner_path + "/search",
                            {"query": query, "top_k": top_k, "word_budget": word_budget})
        return [hit["episode"] for hit in answer["hits"]]


def reply_to(text, recalled):
    """What the agent answers: a stand-in for a language model given the recalled episodes."""
    if recalled:
        return f"I remember: {recalled[0]['title']}"
    return "Nice to hear, tell me more."


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get("NEMORI_URL", "http://127.0.0.1:8080"))
    parser.add_argument("--key", default=os.environ.get("NEMORI_API_KEY", ""),
                        help="API key (default: $NEMORI_API_KEY)")
    parser.add_argument("--owner", default="python-example-user")
    args = parser.parse_args()

    memory = MemoryClient(args.url, args.key, args.owner)
    user_turns = [
        "I adopted a beagle called Biscuit last weekend.",
        "Biscuit already chewed my favourite running shoes.",
        "Work is busy: we ship the new billing system on Friday.",
    ]
    clock = datetime.datetime(2024, 5, 1, 10, 0, tzinfo=datetime.timezone.utc)
    for text in user_turns:
        recalled = memory.search(text)
        answer = reply_to(text, recalled)
        print(f"user:  {text}")
        print(f"agent: {answer}  ({len(recalled)} episodes recalled)")
        turn = []
        for speaker, content in (("user", text), ("agent", answer)):
            turn.append({"speaker_id": speaker, "content": content,
                         "timestamp": clock.isoformat().replace("+00:00", "Z")})
            clock += datetime.timedelta(minutes=1)
        memory.add(turn)

    built = memory.flush()
    print(f"flush: {built['episodes']} episodes from {built['raw_events']} messages")
    question = "What is my beagle called?"
    recalled = memory.search(question)
    print(f"user:  {question}")
    for episode in recalled:
        print(f"recalled: {episode['title']} | {episode['content'][:200]!r}")
    if not any("Biscuit" in episode["content"] for episode in recalled):
        print("error: the beagle's name was not recalled", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
